"""Regenerate the tables of docs/authorisation.md from tongban/tests/authz_cases.py:

    python -m tongban.tests.authz_doc

The text between ``<!-- matrix:begin -->`` and ``<!-- matrix:end -->`` (and the ``holes`` markers) is replaced;
the rest of the page is left as written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "authorisation.md"


def blocks() -> dict[str, str]:
    from .authz_cases import holes_list, markdown_tables

    return {"matrix": markdown_tables(), "holes": holes_list()}


def render(text: str) -> str:
    for name, body in blocks().items():
        pattern = re.compile(rf"(<!-- {name}:begin -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{DOC}: no <!-- {name}:begin --> ... <!-- {name}:end --> block")
        text = pattern.sub(lambda m, body=body: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)
    return text


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    django.setup()
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {DOC}")


if __name__ == "__main__":
    main()
