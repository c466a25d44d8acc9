"""The "public face" import-linter contract: a context is entered only through its public modules.

Another context may import ``tongban.<context>.<module>`` only when ``<module>`` is one of the context's public
modules: ``services`` (writes), ``selectors`` (reads), ``models``, ``errors``, plus the facades a context names
in ``facades`` (e.g. ``workflow.registry``: its plug-in points). Engine internals, stores, private helpers and
views stay private, so a context can be refactored inside without breaking the others.

Configured in pyproject.toml::

    [[tool.importlinter.contracts]]
    type = "public_face"
    contexts = ["tongban.catalog", "tongban.workflow", ...]
    public = ["services", "selectors", "models", "errors"]
    facades = ["tongban.workflow.registry", "tongban.catalog.forms"]
"""

from __future__ import annotations

from typing import Any

from importlinter import Contract, ContractCheck, fields, output


class PublicFaceContract(Contract):
    type_name = "public_face"

    contexts = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())
    facades = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        contexts = [str(c) for c in self.contexts]  # type: ignore[attr-defined]
        public = {str(p) for p in self.public}  # type: ignore[attr-defined]
        facades = {str(f) for f in (self.facades or [])}  # type: ignore[attr-defined]
        illegal = []
        for owner in contexts:
            for imported in sorted(graph.find_descendants(owner)):
                first = imported[len(owner) + 1:].split(".")[0]
                if first in public or any(imported == f or imported.startswith(f + ".") for f in facades):
                    continue
                for importer in sorted(graph.find_modules_that_directly_import(imported)):
                    if importer == owner or importer.startswith(owner + "."):
                        continue
                    if not importer.startswith("tongban.") or "tests" in importer.split("."):
                        continue  # tests may reach inside to set up and observe
                    if _context_of(importer) is None:  # project-level wiring (urls, api, cli, demo) may
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = sorted({d["line_number"] for d in details})
                    illegal.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not illegal, metadata={"illegal": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error("A context may be entered only through its services, selectors, models, errors or a "
                           "named facade:", bold=False)
        output.new_line()
        for link in check.metadata["illegal"]:
            lines = ", ".join(map(str, link["lines"]))
            output.print_error(f"- {link['importer']} -> {link['imported']} (l.{lines})", bold=False)
        output.new_line()


def _context_of(module: str) -> str | None:
    """The context a module belongs to (``tongban.x.y`` → ``tongban.x``); None for project-level modules."""
    parts = module.split(".")
    if len(parts) < 3:
        return None  # tongban.urls, tongban.api, tongban.cli, ... (and packages themselves)
    return ".".join(parts[:2])
