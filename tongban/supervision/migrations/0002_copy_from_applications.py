"""Post-checks and credit records moved from applications to supervision (issue 10): copy the rows that exist
before applications drops its tables. Entities are created for subjects with a valid USCC; credit records of
other subjects (natural persons) have no entity in the register and are kept in the audit log only."""

from django.db import migrations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]
POINTS = {"commitment_breach": -30.0}


def _valid(code: str) -> bool:
    if len(code) != 18 or any(c not in CHARSET for c in code) or not code[2:8].isdigit():
        return False
    total = sum(CHARSET.index(c) * w for c, w in zip(code[:17], WEIGHTS))
    return CHARSET[(31 - total % 31) % 31] == code[17]


def copy(apps, schema_editor):
    OldCheck = apps.get_model("applications", "PostCheck")
    OldCredit = apps.get_model("applications", "CreditEvent")
    Entity = apps.get_model("supervision", "MarketEntity")
    Division = apps.get_model("core", "Division")
    PostCheck = apps.get_model("supervision", "PostCheck")
    CreditEvent = apps.get_model("supervision", "CreditEvent")
    AuditLog = apps.get_model("core", "AuditLog")

    def entity_for(code, name, department):
        code = (code or "").upper()
        if not _valid(code):
            return None
        entity = Entity.objects.filter(uscc=code).first()
        if entity is None:
            division = Division.objects.filter(code=code[2:8] + "000000").first() or department.division
            entity = Entity.objects.create(uscc=code, name=name or code, division=division, source="application")
        entity.supervising_departments.add(department)
        return entity

    for old in OldCheck.objects.select_related("application", "department"):
        app = old.application
        PostCheck.objects.get_or_create(
            application_ref=app.ref, department=old.department,
            defaults={"title": app.title, "subject_name": app.applicant_name,
                      "subject_id_number": app.applicant_id_number, "due_on": old.due_on, "status": old.status,
                      "result": old.result, "checked_by": old.checked_by, "checked_at": old.checked_at,
                      "entity": entity_for(app.applicant_id_number, app.applicant_name, old.department)})
    for old in OldCredit.objects.select_related("application"):
        entity = Entity.objects.filter(uscc=(old.subject_id_number or "").upper()).first()
        if entity is None:
            AuditLog.objects.create(actor_label="system", action="supervision.credit_not_migrated",
                                    object_type="applications.creditevent", object_id=str(old.pk),
                                    reason=old.description, detail={"subject": old.subject_id_number,
                                                                    "kind": old.kind})
            continue
        CreditEvent.objects.create(entity=entity, kind=old.kind if old.kind in POINTS else "penalty",
                                   points=POINTS.get(old.kind, -20.0), description=old.description,
                                   source_ref=old.application.ref if old.application_id else "",
                                   occurred_on=old.created_at.date())


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0001_initial"),
        ("applications", "0001_initial"),
        ("core", "0001_initial"),
    ]
    run_before = [("applications", "0002_post_checks_moved_to_supervision")]

    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]
