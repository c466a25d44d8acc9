"""Third-party evaluation: masking, exports, the reproducible sample draw."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from tongban.feedback import evaluation, services
from tongban.feedback.errors import FeedbackError


@pytest.mark.parametrize(("value", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧**娜"), ("", ""), ("李", "李")])
def test_mask_name(value, masked):
    assert evaluation.mask_name(value) == masked


def test_mask_phone_and_digits_in_text():
    assert evaluation.mask_phone("13912345678") == "139****5678"
    text = evaluation.mask_text("我的电话13912345678，身份证91010219880315432X，住3栋501室")
    assert "13912345678" not in text and "91010219880315432X" not in text
    assert "3栋501室" in text  # short numbers stay


def test_exports_of_no_rows_are_valid_files():
    assert evaluation.to_csv([]) == "\ufeff".encode()
    assert pq.read_table(io.BytesIO(evaluation.to_parquet([]))).num_rows == 0


@pytest.mark.django_db
def test_sample_is_reproducible_and_bounded(demo_core):
    from tongban.core.models import Organisation

    org = Organisation.objects.get(code="yx-rsj")
    for i in range(30):
        services.record_service(ref=f"C-{i}:X", application_ref=f"C-{i:02d}", department=org)
    first = evaluation.sample_cases(5, seed=11)
    assert first == evaluation.sample_cases(5, seed=11) and len(first["cases"]) == 5
    assert first["cases"] != evaluation.sample_cases(5, seed=12)["cases"]
    assert first["population"] == 30
    with pytest.raises(FeedbackError):
        evaluation.sample_cases(0, seed=1)
    with pytest.raises(FeedbackError) as unknown:
        evaluation.rows("people")
    assert unknown.value.status == 404
