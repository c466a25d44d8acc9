"""The XML layer under the BPMN and DMN parsers: namespaces, located problems (``Issue``, ``DefinitionError``),
element names, extension attributes and a safe XML parser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
TONGBAN_NS = "https://tongban.org/schema/bpmn"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


@dataclass
class Issue:
    line: int
    element_id: str
    message: str

    def format(self, filename: str) -> str:
        return f"{filename}:{self.line}: element {self.element_id or '-'}: {self.message}"


class DefinitionError(ValueError):
    """A BPMN or DMN file that cannot be deployed; ``issues`` lists every problem with its line."""

    code = "workflow.invalid_definition"

    def __init__(self, issues: list[Issue], filename: str = "<string>") -> None:
        self.issues = sorted(issues, key=lambda i: (i.line, i.element_id))
        self.filename = filename
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [i.format(self.filename) for i in self.issues]


def local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def extension_attrs(el: Any) -> dict[str, str]:
    """``tongban:*`` attributes (any namespace containing "tongban") and ``<*:property name= value=>`` entries
    inside ``extensionElements`` (tongban, camunda and zeebe modeler styles)."""
    attrs: dict[str, str] = {}
    for ext in el:
        if local(ext.tag) != "extensionElements":
            continue
        for prop in ext.iter():
            if local(prop.tag) == "property" and prop.get("name"):
                attrs[prop.get("name")] = prop.get("value", prop.text or "")
    for name, value in el.attrib.items():
        if name.startswith("{"):
            ns, _, ln = name[1:].partition("}")
            if "tongban" in ns:
                attrs[ln] = value
            elif ln in ("collection", "elementVariable", "resultVariable") and ("camunda" in ns or "zeebe" in ns):
                attrs.setdefault(ln, value)
    return attrs


def parse_xml(data: bytes | str, filename: str) -> Any:
    if isinstance(data, str):
        data = data.encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 0) or 0
        raise DefinitionError([Issue(line, "-", f"XML syntax error: {exc.msg}")], filename) from exc
