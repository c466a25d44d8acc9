from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tongban.core.models import Organisation, User


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory):
    """The classifier trained once per test session on the shipped corpus (stored like ``hotline train`` does)."""
    from tongban.feedback import classifier

    path = tmp_path_factory.mktemp("hotline") / "hotline-classifier.joblib"
    classifier.save(classifier.fit(classifier.load_corpus()), path)
    return path


@pytest.fixture
def model(trained_model, monkeypatch):
    from tongban.feedback import conf

    monkeypatch.setattr(conf, "model_path", lambda: trained_model)
    return trained_model


@pytest.fixture
def feedback_demo(demo_core):
    """Core demo plus the feedback roles and accounts (hotline operator, evaluator, discipline staff)."""
    from rich.console import Console

    from tongban.feedback import demo

    demo.ensure_accounts(Console(quiet=True))


@pytest.fixture
def zhang(demo_core) -> User:
    return User.objects.get(username="zhangsan")


@pytest.fixture
def service(demo_core, zhang):
    from tongban.feedback import services

    return services.record_service(
        ref="YX-T-0001:YX-RSJ-QR-0001", application_ref="YX-T-0001", item_code="YX-RSJ-QR-0001",
        item_name="工伤认定", department=Organisation.objects.get(code="yx-rsj"),
        window=Organisation.objects.get(code="yx-zwzx-w01"), staff=User.objects.get(username="clerk"),
        person=zhang, served_at=timezone.now() - dt.timedelta(days=1))
