"""The situation guide (情形引导): the questions, the situation they pick, the exact de-duplicated material list
and the (merged) form of an application."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tongban.catalog import definitions
from tongban.catalog.forms import material_key, merge_schemas
from tongban.catalog.models import Material, ServiceItem, Situation

from ..errors import ApplicationError
from ..models import Application


def condition_answers(value: Any) -> list[str]:
    """The answers a situation's condition accepts, as text (a condition names one answer or a list)."""
    return [str(a) for a in value] if isinstance(value, list) else [str(value)]


def guide_questions(item: ServiceItem) -> list[dict[str, Any]]:
    """The questions that pick an item's situation: each key of the situations' conditions, with its answers."""
    questions: dict[str, list[str]] = {}
    for situation in item.situations.all():
        for key, value in (situation.conditions or {}).items():
            answers = questions.setdefault(key, [])
            answers += [a for a in condition_answers(value) if a not in answers]
    return [{"key": k, "answers": v} for k, v in questions.items()]


def pick_situation(item: ServiceItem, answers: dict[str, Any]) -> Situation | None:
    """The situation whose conditions all match ``answers`` (the most specific one), or None if the item has none.

    Raises ``application.situation_unresolved`` when the item has situations and none matches.
    """
    situations = list(item.situations.all())
    if not situations:
        return None
    best: tuple[int, Situation] | None = None
    for s in situations:
        conds = s.conditions or {}
        ok = all(str(answers.get(k)) in condition_answers(v) for k, v in conds.items())
        if ok and (best is None or len(conds) > best[0]):
            best = (len(conds), s)
    if best is None:
        raise ApplicationError(f"“{item.name}”：根据您的回答无法确定办理情形，请检查引导问题的答案",
                               code="application.situation_unresolved", detail={"questions": guide_questions(item)})
    return best[1]


def situation_by_code(item: ServiceItem, code: str) -> Situation:
    s = next((s for s in item.situations.all() if s.code == code), None)  # prefetched with the definition
    if s is None:
        raise ApplicationError(f"“{item.name}”没有办理情形“{code}”", code="application.unknown_situation")
    return s


def applicable_materials(item: ServiceItem, situation: Situation | None) -> list[Material]:
    return list(situation.materials.all()) if situation else list(item.materials.all())


@dataclass
class PlannedMaterial:
    """One distinct material of an application, with every catalogue material and item that asks for it."""

    key: str
    name: str
    requirement: str
    source: str
    materials: list[Material]
    item_codes: list[str]
    commitment_replaceable: bool
    waivable: bool


def material_plan(selection: list[tuple[ServiceItem, Situation | None]]) -> list[PlannedMaterial]:
    """The de-duplicated materials an application needs: one entry per distinct material across its items."""
    plan: dict[str, PlannedMaterial] = {}
    for item, situation in selection:
        for m in applicable_materials(item, situation):
            kind, value = material_key(m)
            key = f"{kind}:{value}"
            entry = plan.get(key)
            if entry is None:
                plan[key] = PlannedMaterial(key=key, name=m.name, requirement=m.requirement, source=m.source,
                                            materials=[m], item_codes=[item.code],
                                            commitment_replaceable=m.commitment_replaceable, waivable=m.waivable)
                continue
            entry.materials.append(m)
            if item.code not in entry.item_codes:
                entry.item_codes.append(item.code)
            if m.requirement == Material.Requirement.REQUIRED:
                entry.requirement = Material.Requirement.REQUIRED
            entry.commitment_replaceable = entry.commitment_replaceable and m.commitment_replaceable
            entry.waivable = entry.waivable and m.waivable
    return list(plan.values())


def form_schema(selection: list[tuple[ServiceItem, Situation | None]], title: str) -> dict[str, Any]:
    """The one form of the selection: the items' schemas merged (a field several items need is asked once)."""
    return merge_schemas([(item.code, item.form_schema) for item, _ in selection], title=title)


@dataclass
class Selection:
    """The applicant's choice for one item: a situation code, or the answers to the guide questions."""

    item_code: str
    situation_code: str = ""
    answers: dict[str, Any] | None = None


def resolve_selection(application_items: list[ServiceItem], choices: dict[str, Selection]
                      ) -> list[tuple[ServiceItem, Situation | None]]:
    """Each item with its situation: the one chosen by code, or the one the answers pick."""
    out = []
    for item in application_items:
        choice = choices.get(item.code)
        if choice and choice.situation_code:
            situation: Situation | None = situation_by_code(item, choice.situation_code)
        elif item.situations.all():
            situation = pick_situation(item, (choice.answers if choice else None) or {})
        else:
            situation = None
        out.append((item, situation))
    return out


def selection_of(app: Application) -> list[tuple[ServiceItem, Situation | None]]:
    if "items" in getattr(app, "_prefetched_objects_cache", {}):
        return [(ai.item, ai.situation) for ai in app.items.all()]  # read once for the step (prefetch_case)
    return [(ai.item, ai.situation) for ai in app.items.select_related("item", "situation")]


def application_schema(app: Application) -> dict[str, Any]:
    """The (merged) JSON Schema of an application's form (kept per process like the published definitions:
    merging checks the result against the JSON Schema meta-schema, the costly part of a submission)."""
    selection = selection_of(app)
    key = ("application_schema", app.title, tuple((item.pk, situation.pk if situation else None)
                                                  for item, situation in selection))
    return definitions.cached(key, lambda: form_schema(selection, app.title))
