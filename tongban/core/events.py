"""Platform events that let bounded contexts react to each other without importing each other.

Contexts on the same layer (applications, exchange, credentials, supervision, feedback) never import
one another (see docs/architecture.md). The one that produces a fact sends one of these signals; the
one that reacts connects a receiver in its ``apps.py`` ``ready()``. Payloads are plain data (codes,
ids, dicts), never model instances of another context.
"""

from __future__ import annotations

from django.dispatch import Signal

# An application's item reached its final decision.
# kwargs: application_ref (str), item_code (str), outcome ("approved"|"rejected"), holder (dict:
#         kind, name, id_number/credit_code, user_id), result (dict: licence_type, data), organisation_code (str)
#         and, when known, window_code (str: the window that accepted the case), served_by (int: staff user id)
decision_made = Signal()

# A case (application) was closed: every item is decided and results were delivered.
# kwargs: application_ref (str), case_file (dict: form data, materials, decisions, events, results), item_codes
case_closed = Signal()

# A credential (e-licence) was issued / changed status.
# kwargs: credential_id (str), licence_type (str), holder_id_number (str), status (str), application_ref (str);
#         credential_issued also: licence_name (str), number (str: the licence number), valid_until (str, for people)
credential_issued = Signal()
credential_status_changed = Signal()

# A commitment-based approval failed its post-check (告知承诺制 事后核查不通过).
# kwargs: application_ref (str), holder (dict), reason (str)
post_check_failed = Signal()

# An application was approved on the commitment route (告知承诺制): supervision owns the post-check from here.
# kwargs: application_ref (str), title (str), holder (dict: kind, name, id_number), items (list of dicts:
#         item_code, item_name, department_code), approved_on (ISO date)
commitment_approved = Signal()

# A post-check of a commitment approval failed: sent by supervision (the owner of the post-check), received by
# applications (the case is revoked) and credentials (the licences are revoked). Declared above as
# ``post_check_failed``; kwargs: application_ref (str), holder (dict), reason (str).

# A 12345 report (举报) about a market entity was received: a lead for supervision/enforcement.
# kwargs: order_number (str), entity_name (str), credit_code (str), text (str), division_code (str),
#         department_code (str), received_at (str, ISO 8601)
entity_reported = Signal()

# A lead for administrative enforcement (执法线索): a failed post-check, an inspection finding, a risk warning, a
# complaint. The enforcement context registers it as a lead of the department.
# kwargs: source ("post_check"|"inspection"|"risk"|"complaint"|"manual"), entity_uscc (str), entity_name (str),
#         item_code (str, the enforcement item, may be ""), description (str), department_code (str)
enforcement_lead_reported = Signal()

# A fact for an entity's credit record (信用信息), e.g. an administrative penalty decided by enforcement.
# kwargs: entity_uscc (str), kind (str, e.g. "administrative_penalty"), points (int, negative lowers the score),
#         reason (str), occurred_on (datetime.date)
credit_fact = Signal()

# Market entities' credit grades changed (信用分级分类, supervision), after the change is written.
# kwargs: usccs (list[str]: the unified social credit codes whose grade changed)
entity_graded = Signal()

# A window service ended without a case decision (一次性告知 / 不予受理): the person is invited to rate it (好差评).
# Sent after the commit. kwargs: application_ref (str), kind ("notice" | "refusal"), notice_code (str),
#         item_code (str), department_code (str), window_code (str), served_by (int | None),
#         holder (dict: kind, name, id_number, user_id)
window_service_rendered = Signal()
