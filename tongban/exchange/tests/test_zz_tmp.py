import pytest
from tongban.core import evidence
from tongban.exchange import services, accesslog
@pytest.mark.django_db
def test_smoke(exchange_demo):
    from tongban.exchange.models import Grant, AccessLogEntry
    print(Grant.objects.count(), Grant.objects.filter(status="requested").count())
    services.give_consent(subject_id="910102199001011234", code="household_register", consumer_org="yx-scjg", purpose="x", case_ref="C1")
    ev = services.query(code="household_register", subject_id="910102199001011234", consumer_org="yx-scjg", purpose="核验", case_ref="C1")
    print(ev)
    try:
        services.query(code="household_register", subject_id="910102199001011234", consumer_org="yx-sw", purpose="核验")
    except evidence.EvidenceRefused as e:
        print(e.code, e)
    ev = services.query(code="business_register", subject_id="91910100MA1YX0001K", consumer_org="yx-sw", purpose="核验")
    print(ev.data, ev.masked_fields)
    sth = accesslog.sign_tree_head()
    print(sth, accesslog.inclusion_proof(1, 3), accesslog.consistency_proof(1, 3))
    r = accesslog.verify_log(); print(r)
    print(services.preview_evidence_plan([{"source":"shared","code":"birth_medical_certificate","name":"出生医学证明"},{"source":"issued","code":"x","name":"y"}], "910102199001011234", "yx-ga"))
