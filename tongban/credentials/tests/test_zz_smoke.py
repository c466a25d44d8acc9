import pytest
@pytest.mark.django_db
def test_smoke(business_licence):
    from tongban.credentials import verification, services
    from tongban.credentials.conf import media_root
    c = business_licence
    print(c.licence_number, c.pdf_path, c.vc_jws[:80])
    pdf = (media_root() / c.pdf_path).read_bytes()
    r = verification.verify_pdf(pdf); print(r)
    r = verification.verify_vc(c.vc_jws); print(r)
    services.revoke_credential(c.id, reason="test")
    print(verification.verify_vc(c.vc_jws))
    print(verification.verify_pdf(pdf))
    open("/tmp/hcred/sample.pdf","wb").write(pdf)
