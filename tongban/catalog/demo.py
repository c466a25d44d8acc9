"""Demo data for the catalogue: ``demo/catalog.json`` (云溪市), loaded through the normal import service.

Idempotent: unchanged items, bundles and list versions are left alone on a second run.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from . import importing, services

DEMO_FILE = Path(__file__).resolve().parent / "demo" / "catalog.json"


def load(console: Console, path: Path = DEMO_FILE) -> importing.ImportResult | None:
    if not path.exists():
        console.print(f"[yellow]catalog[/yellow]: 没有找到演示目录文件 {path}，跳过")
        return None
    try:
        result = importing.load_catalog(path, reason="演示数据", display_name=f"catalog/demo/{path.name}")
    except importing.CatalogFileError as exc:
        for issue in exc.issues:
            console.print(str(issue), markup=False, highlight=False)
        raise
    console.print(
        f"[green]catalog[/green]: 事项 新建 {result.items[services.CREATED]} / 更新 {result.items[services.UPDATED]}"
        f" / 未变 {result.items[services.UNCHANGED]}，一件事 {sum(result.bundles.values())} 个，"
        f"新增权责清单版本 {len(result.versions_created)} 个"
    )
    return result
