"""Who does a user task (part of the BPMN parser): explicit attributes, BPMN's resource assignments
(``potentialOwner`` / ``humanPerformer``) and swimlanes (泳道) named after organisations."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import expressions
from .bpmn_xml import BPMN_NS, Issue, extension_attrs, local

OrganisationLookup = Callable[[set[str]], dict[str, list[str]]]
_ASSIGNMENT = re.compile(r"^(user|group|org|organisation|organization)\((.*)\)$", re.IGNORECASE | re.DOTALL)


def _split_assignment(text: str) -> list[str]:
    """``user(a), group(b)`` -> ["user(a)", "group(b)"]: commas outside parentheses and ``${...}`` split."""
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return [p for p in parts if p]


def _compact(name: str) -> str:
    """A lane or resource name as drawn: modelers wrap long names, so whitespace is dropped."""
    return "".join(name.split())


def database_organisations(names: set[str]) -> dict[str, list[str]]:
    """The organisations each name stands for: name -> codes of the organisations whose code, full name or
    short name it is (one query). Whitespace inside the stored names is ignored, as in lane names."""
    from django.db.models import Q

    from tongban.core.models import Organisation

    found: dict[str, set[str]] = {}
    rows = Organisation.objects.filter(Q(code__in=names) | Q(name__in=names) | Q(short_name__in=names)
                                       ).values_list("code", "name", "short_name")
    for code, name, short in rows:
        for value in {code, name, short}:
            key = _compact(value or "")
            if key in names:
                found.setdefault(key, set()).add(code)
    # a code match wins over a name that happens to equal another organisation's code
    return {n: ([n] if n in codes else sorted(codes)) for n, codes in found.items()}


class AssignmentMixin:
    """The assignment passes of ``bpmn._ProcessParser`` (which provides the attributes declared here)."""

    process_el: Any
    issues: list[Issue]
    organisations: OrganisationLookup
    user_tasks: dict[str, Any]
    elements: dict[str, dict[str, Any]]
    _resource_names: dict[str, str]

    def error(self, el: Any, element_id: str, message: str) -> None:
        raise NotImplementedError

    def _check_expr(self, el: Any, element_id: str, what: str, text: str | None) -> None:
        raise NotImplementedError

    def _resources(self) -> dict[str, str]:
        """``<resource id name>`` of the file (the targets of ``resourceRef``): id -> name."""
        if not hasattr(self, "_resource_names"):
            root = self.process_el.getparent()
            self._resource_names = {r.get("id"): (r.get("name") or r.get("id") or "").strip()
                                    for r in (root if root is not None else []) if local(r.tag) == "resource"}
        return self._resource_names

    def _resource_assignments(self, el: Any, eid: str, node: dict[str, Any]) -> None:
        """BPMN's standard ``potentialOwner`` / ``humanPerformer`` (and ``performer``) of a user task:
        ``user(name)`` is the assignee, ``group(role)`` the candidate role, ``org(name)`` the candidate
        organisation (its code, full or short name); a bare name is a user for ``humanPerformer`` and a role (or
        an organisation, when it names one) for ``potentialOwner``; a ``resourceRef`` stands for its resource's
        name. Explicit ``tongban:`` / ``camunda:`` attributes win over what is read here."""
        users: list[str] = []
        groups: list[str] = []
        orgs: list[str] = []
        bare: list[str] = []
        for child in el:
            kind = local(child.tag)
            if kind not in ("potentialOwner", "humanPerformer", "performer"):
                continue
            texts: list[str] = []
            for part in child.iter():
                pt = local(part.tag)
                if pt == "formalExpression" and (part.text or "").strip():
                    texts.append(part.text.strip())
                elif pt == "resourceRef" and (part.text or "").strip():
                    ref = part.text.strip().split(":")[-1]
                    texts.append(self._resources().get(ref, ref))
            if child.get("resourceRef"):
                ref = child.get("resourceRef").split(":")[-1]
                texts.append(self._resources().get(ref, ref))
            for text in texts:
                for token in _split_assignment(text):
                    m = _ASSIGNMENT.match(token)
                    if m:
                        what, value = m.group(1).lower(), m.group(2).strip()
                        {"user": users, "group": groups, "org": orgs, "organisation": orgs,
                         "organization": orgs}[what].append(value)
                    elif kind == "potentialOwner":
                        bare.append(token)
                    else:
                        users.append(token)
        if not (users or groups or orgs or bare):
            return
        node["resource_bare"] = bare
        if len(set(users)) > 1:
            node["resource_error"] = True
            self.error(el, eid, "potentialOwner / humanPerformer names more than one user ("
                                + ", ".join(sorted(set(users))) + "): a task has one assignee (use group(role))")
        elif users and not node["assignee"]:
            node["assignee"] = users[0]
            self._check_expr(el, eid, "humanPerformer", users[0])
        if len(set(groups)) > 1:
            node["resource_error"] = True
            self.error(el, eid, "potentialOwner names more than one group (" + ", ".join(sorted(set(groups)))
                                + "): a task is offered to one role")
        elif groups and not node["candidate_role"]:
            node["candidate_role"] = groups[0]
            self._check_expr(el, eid, "potentialOwner", groups[0])
        if len(set(orgs)) > 1:
            node["resource_error"] = True
            self.error(el, eid, "potentialOwner names more than one organisation (" + ", ".join(sorted(set(orgs)))
                                + "): a task is offered to one organisation")
        elif orgs and not node["candidate_org"]:
            node["resource_org"] = orgs[0]

    def _lanes(self) -> dict[str, Any]:
        """Flow node id -> the innermost lane (``<lane>`` element) that lists it, anywhere in the process."""
        lane_of: dict[str, Any] = {}
        for lane in self.process_el.iter(f"{{{BPMN_NS}}}lane"):  # document order: nested lanes come later
            for ref in lane:
                if local(ref.tag) == "flowNodeRef" and (ref.text or "").strip():
                    lane_of[ref.text.strip()] = lane
        return lane_of

    def _assign_lanes(self) -> None:
        """Settle each user task's candidate role and organisation. Order of precedence: explicit
        ``tongban:candidateRole`` / ``camunda:candidateGroups`` and ``tongban:candidateOrg``; the task's
        ``potentialOwner`` / ``humanPerformer``; the swimlane (泳道) holding the task (or its sub-process), whose
        name is an organisation's code, full name or short name — the task's role is then ``approver`` unless
        the task (or the lane's ``tongban:candidateRole``) names another. A lane that has to assign a task but
        names no known organisation is an error on the lane."""
        if not self.user_tasks:
            return
        tasks = [(eid, el, self.elements[eid]) for eid, el in self.user_tasks.items() if eid in self.elements]
        found: dict[str, list[str]] = {}
        reported: set[int] = set()

        def lookup(names: set[str]) -> None:
            names = {n for n in names if n and n not in found and not expressions.is_wrapped(n)}
            if names:
                found.update(self.organisations(names))

        def resolve(el: Any, eid: str, name: str, what: str) -> str:
            codes = found.get(name, [])
            if len(codes) == 1:
                return codes[0]
            if id(el) not in reported:
                reported.add(id(el))
                if not name:
                    self.error(el, eid, f"{what} has no name: name it after the organisation that does its tasks "
                                        "(the organisation's code, full name or short name)")
                elif not codes:
                    self.error(el, eid, f"{what} '{name}' names no known organisation (use an organisation's code, "
                                        "full name or short name)")
                else:
                    self.error(el, eid, f"{what} '{name}' names more than one organisation ("
                                        + ", ".join(sorted(codes)) + "): use the organisation's code")
            return ""

        # 1. potentialOwner names (a bare name may be an organisation, else it is a role)
        lookup({t for _, _, node in tasks if not node["candidate_org"]
                for t in [*node.get("resource_bare", []), node.get("resource_org", "")]})
        for eid, el, node in tasks:
            bare = node.pop("resource_bare", [])
            org_ref = node.pop("resource_org", "")
            for token in bare:
                if len(found.get(token, [])) == 1 and not org_ref and not node["candidate_org"]:
                    org_ref = token
                elif not node["candidate_role"]:
                    node["candidate_role"] = token
            if org_ref and not node["candidate_org"]:
                node["candidate_org"] = (org_ref if expressions.is_wrapped(org_ref)
                                         else resolve(el, eid, org_ref, "potentialOwner organisation"))
                node["org_from"] = "potentialOwner"
        # 2. the lanes of the tasks still without an organisation
        lane_of = self._lanes()
        wanted: dict[str, tuple[Any, str]] = {}
        for eid, _, node in tasks:
            if node["candidate_org"] or node.get("org_from"):
                continue
            lane, holder = None, eid
            while lane is None and holder:
                lane = lane_of.get(holder)
                holder = self.elements[holder]["scope"] if holder in self.elements else ""
            if lane is not None:
                wanted[eid] = (lane, _compact(lane.get("name") or ""))
        lookup({name for _, name in wanted.values()})
        for eid, el, node in tasks:
            lane_role = ""
            if eid in wanted:
                lane, name = wanted[eid]
                node["candidate_org"] = resolve(lane, lane.get("id") or "-", name, "lane")
                node["org_from"] = "lane"
                node["lane"] = name
                lane_role = extension_attrs(lane).get("candidateRole", "")
            if not node["candidate_role"] and node.get("org_from"):
                node["candidate_role"] = lane_role or "approver"
            if not node["candidate_role"] and not node.pop("resource_error", False):
                self.error(el, eid, "user task needs tongban:candidateRole (e.g. approver)")
            node.pop("resource_error", None)
