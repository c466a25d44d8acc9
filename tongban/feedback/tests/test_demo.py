"""The demo data: accounts, several hundred ratings and work orders over recent months, every department in the
corpus; deterministic and idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rich.console import Console

from tongban.core.demo import ORGANISATIONS
from tongban.core.models import Organisation, Role
from tongban.core.selectors import has_role
from tongban.feedback import classifier, demo, selectors
from tongban.feedback.models import Rating, Rectification, WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(demo_core, model):
    from tongban.catalog import demo as catalog_demo

    catalog_demo.load(Console(quiet=True))
    demo.load(Console(quiet=True))


def test_demo_accounts_and_data(loaded):
    from tongban.core.models import User

    assert has_role(User.objects.get(username="hotline"), Role.HOTLINE_OPERATOR)
    assert has_role(User.objects.get(username="evaluator"), Role.EVALUATOR)
    assert has_role(User.objects.get(username="discipline-rsj"), Role.DISCIPLINE, Organisation.objects.get(code="yx-rsj"))
    ratings, orders = Rating.objects.count(), WorkOrder.objects.count()
    assert ratings >= 250 and orders >= 300
    oldest = Rating.objects.order_by("created_at").first().created_at
    assert timezone.now() - oldest > dt.timedelta(days=90)  # spread over recent months
    assert Rectification.objects.filter(status=Rectification.Status.DONE).exists()
    assert Rectification.objects.filter(status=Rectification.Status.VERIFYING).exists()
    assert set(WorkOrder.objects.values_list("status", flat=True)) >= {"new", "dispatched", "answered", "closed"}
    stats = selectors.rating_stats()
    assert stats["total"] == ratings and 0.5 < stats["satisfaction_rate"] < 1
    demo.load(Console(quiet=True))  # idempotent
    assert (Rating.objects.count(), WorkOrder.objects.count()) == (ratings, orders)


def test_corpus_covers_every_demo_department_and_type():
    corpus = classifier.load_corpus()
    departments = {code for code, _n, _s, kind, _d, _p in ORGANISATIONS if kind == Organisation.Kind.DEPARTMENT}
    assert len(corpus) >= 1000
    assert {e.department for e in corpus} == departments
    assert {e.type for e in corpus} == set(WorkOrder.Type.values)
    assert len({e.text for e in corpus}) == len(corpus)  # no duplicates leaking across folds


def test_corpus_is_generated_deterministically():
    from tongban.feedback.data import make_corpus

    assert make_corpus.generate() == [{"text": e.text, "type": e.type, "department": e.department}
                                      for e in classifier.load_corpus()]
