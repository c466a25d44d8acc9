"""The 出生一件事 submission as an applicant's client makes it through the JSON API: 8 calls (create, 5 evidence
fetches with consent, 1 upload, submit), on the demo catalogue and demo data.

Used by the test that bounds its SQL statements (``tests/test_submission_cost.py``) and by ``benchmarks/http.py``;
it only needs a ``call(method, path, json=None, upload=None) -> (status, body)`` function, so the same journey
runs in the test client and over HTTP.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

BUNDLE = "YX-YJS-CS"  # 出生一件事 of the demo catalogue
SITUATIONS = {"YX-WSJK-GG-0001": {"situation_code": "in-hospital"}, "YX-GA-QR-0001": {"situation_code": "local"},
              "YX-YBJ-GG-0001": {"situation_code": "local-newborn"}, "YX-RSJ-GG-0002": {"situation_code": "newborn"}}
PDF = b"%PDF-1.4\n% birth registration form\n"

Call = Callable[..., tuple[int, Any]]


class JourneyError(RuntimeError):
    """A call of the journey did not answer as an applicant's client expects."""


def form_data(id_number: str) -> dict[str, Any]:
    return {"child_name": "张小溪", "child_gender": "男", "child_birth_date": "2025-10-08",
            "birth_hospital": "云溪市妇幼保健院", "mother_name": "王丽", "mother_id_number": id_number,
            "applicant_phone": "13800001234", "applicant_name": "张三", "applicant_id_number": id_number,
            "vaccination_clinic": "翠湖街道社区卫生服务中心预防接种门诊", "household_address": "东川省云溪市青山区翠湖街道",
            "mailing_address": "东川省云溪市青山区翠湖街道翠湖社区3栋2单元501室", "deposit_bank": "中国银行云溪分行"}


def _ok(expected: int, status: int, body: Any, what: str) -> Any:
    if status != expected:
        raise JourneyError(f"{what}: HTTP {status} {str(body)[:300]}")
    return body


def submit_birth(call: Call, id_number: str) -> dict[str, Any]:
    """Run the 8 calls; return the submitted application's detail (status ``in_review`` when every department's
    materials were fetched or uploaded)."""
    app = _ok(201, *call("POST", "/api/applications", {"bundle_code": BUNDLE, "situations": SITUATIONS}), "create")
    ref = app["ref"]
    fetch = [m["key"] for m in app["materials"] if m["source"] != "applicant"]
    upload = [m["key"] for m in app["materials"]
              if m["source"] == "applicant" and m["status"] == "missing" and m["requirement"] == "required"]
    for key in fetch:
        _ok(200, *call("POST", f"/api/applications/{ref}/materials/{quote(key)}/evidence", {"consent": True}),
            f"evidence {key}")
    for key in upload:
        _ok(200, *call("POST", f"/api/applications/{ref}/materials/{quote(key)}/file",
                       upload=("form.pdf", PDF + os.urandom(8))), f"upload {key}")
    return _ok(200, *call("POST", f"/api/applications/{ref}/submit", {"form_data": form_data(id_number)}), "submit")
