"""Risk warnings: the model learns the known synthetic signal; scanning turns risky entities into warnings (leads
with a deadline) for the supervising department, once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tongban.supervision import risk, services
from tongban.supervision.errors import InvalidInput
from tongban.supervision.models import EnforcementLead, MarketEntity, RiskModel
from tongban.testing import Api, ok

from .conftest import code


def test_model_recovers_the_known_signal_on_held_out_data():
    m = risk.train(8000, seed=7)
    assert m.auc > 0.75 and m.test_size == 2000
    true_auc = _auc(risk.TRUE_WEIGHTS, risk.TRUE_INTERCEPT, *risk.synthetic(4000, seed=8))
    assert abs(m.auc - true_auc) < 0.05  # about as good as the true model can be
    assert [w > 0 for w in m.weights] == [w > 0 for w in risk.TRUE_WEIGHTS]
    noise = risk.Model([0.0] * 6, 0.0, 0.0, 0, 0, 0, risk.FEATURES)
    assert noise.probability([3, 3, 3, 3, 1, 1]) == 0.5


def _auc(weights, intercept, xs, ys):
    from sklearn.metrics import roc_auc_score

    scores = [intercept + sum(w * v for w, v in zip(weights, x, strict=True)) for x in xs]
    return roc_auc_score(ys, scores)


def test_scan_warns_risky_entities_once(world):
    risky = MarketEntity.objects.get(uscc=code(1))
    dept = risky.supervising_departments.get()
    for kind in ("commitment_breach", "inspection_failed", "complaint_upheld", "complaint_upheld"):
        services.add_credit_event(risky, kind, "测试记录", department=dept)
    first = services.scan_risks()
    assert RiskModel.objects.count() == 1 and first["auc"] > 0.75
    warning = EnforcementLead.objects.get(entity=risky, source="warning")
    assert warning.department == dept and warning.due_on > timezone.localdate()
    assert "规则分 12" in warning.description and "事后核查不通过" in warning.description
    assert not EnforcementLead.objects.filter(source="warning").exclude(entity=risky).exists()
    again = services.scan_risks()
    assert again["warnings"] == 0 and again["flagged"] == first["flagged"]
    rows = ok(Api("supervisor").get("/api/supervision/leads?source=warning"))
    assert [r["uscc"] for r in rows] == [code(1)] and rows[0]["light"] == "green"
    assert ok(Api("zhangsan").get("/api/supervision/leads")) == []
    with pytest.raises(InvalidInput) as err:
        services.scan_risks(threshold=1.5)
    assert err.value.field == "threshold"
