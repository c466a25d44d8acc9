"""The indicator file: checked on load, versioned like the catalogue, extendable without Python."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tongban.insight.errors import BadDefinitions
from tongban.insight.indicators import compute, current, formula, load
from tongban.insight.indicators import definitions as defs_mod
from tongban.insight.models import IndicatorSet

from . import world


def _shipped() -> dict:
    return yaml.safe_load(defs_mod.SHIPPED.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict, name: str = "ind.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.django_db
def test_loading_versions_the_file(tmp_path):
    first, created = load()
    assert created and first.version == 1 and len(first.sha256) == 64
    again, created = load()
    assert not created and again.version == 1 and IndicatorSet.objects.count() == 1
    data = _shipped()
    data["indicators"][0]["target"] = 95
    changed, created = load(_write(tmp_path, data))
    assert created and changed.version == 2 and changed.indicators[0].target == 95
    assert current().version == 2
    back, created = load()  # the old content again: a new version, history kept
    assert created and back.version == 3 and IndicatorSet.objects.count() == 3


@pytest.mark.django_db
def test_a_city_adds_a_simple_ratio_without_python(tmp_path):
    world.build()
    data = _shipped()
    data["measures"]["window_closed"] = {"fact": "items_closed", "agg": "sum",
                                         "expr": "CASE WHEN channel = 'window' THEN 1 ELSE 0 END"}
    data["indicators"].append({"id": "window_share", "name": "窗口办件占比", "dimension": "efficiency",
                               "definition": "当月审结的办件事项中窗口申请的比例。",
                               "formula": "100 * window_closed / closed", "unit": "%", "direction": "lower",
                               "target": None})
    load(_write(tmp_path, data))
    got = {f.indicator.id: f.value for f in compute("2026-03", indicators=["window_share"])}
    assert got == {"window_share": 40.0}  # R2 and R3 of five closed items


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d["indicators"][0].update(formula="100 * nope / closed"), "nope"),
    (lambda d: d["indicators"][0].update(formula="__import__('os')"), "公式"),
    (lambda d: d["indicators"][0].update(dimension="speed"), "speed"),
    (lambda d: d["indicators"][0].update(direction="up"), "direction"),
    (lambda d: d["indicators"][1].update(id=d["indicators"][0]["id"]), "重复"),
    (lambda d: d["measures"]["closed"].update(fact="nothing"), "nothing"),
    (lambda d: d["measures"]["visits"].update(agg="median"), "agg"),
    (lambda d: d["indicators"][0].pop("unit"), "unit"),
    # a 容错 condition on a fact that cannot name the excluding lead (good_rating_rate: ratings)
    (lambda d: next(i for i in d["indicators"] if i["id"] == "good_rating_rate").update(tolerated="good = 0"),
     "tolerated_lead"),
])
@pytest.mark.django_db
def test_a_broken_file_is_refused_and_nothing_is_stored(tmp_path, breakage, message):
    data = _shipped()
    breakage(data)
    with pytest.raises(BadDefinitions, match=message):
        load(_write(tmp_path, data))
    assert IndicatorSet.objects.count() == 0


def test_formulas():
    assert formula.evaluate("100 * a / b", {"a": 1, "b": 4}) == 25.0
    assert formula.evaluate("a / b", {"a": 1, "b": 0}) is None
    assert formula.evaluate("a - -b", {"a": 1, "b": None}) is None
    assert formula.names("(x + y) / x") == ["x", "y"]
    for bad in ("a ** 2", "a.b", "f(a)", "a if b else c", "'s'"):
        with pytest.raises(BadDefinitions):
            formula.parse(bad)
