"""The applicant's bundle form in a real browser (headless Debian chromium driven by Playwright).

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and the ``playwright`` Python package; the test is
skipped, with the reason, when either is missing. Screenshots go to /tmp/hportal-*.png.
"""

from __future__ import annotations

import re

import pytest

from tongban.applications.models import Application

PDF = b"%PDF-1.4\n% uploaded from the browser test\n"

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _fresh_workflow_caches():
    """The engine caches organisation ids; on PostgreSQL ids are not reused between tests, so start afresh."""
    from tongban.workflow import engine

    engine.clear_caches()
    yield
    engine.clear_caches()




def test_applicant_fills_the_merged_bundle_form_in_the_browser(transactional_db, live_server, small_catalog,
                                                               users, chromium):
    page = chromium.new_page(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    page.set_default_timeout(15000)
    base = live_server.url

    # sign in with the demo identity provider (Django login) as zhangsan
    page.goto(f"{base}/accounts/login/?next=/apply/bundle/T-BUNDLE/")
    page.fill("#id_username", "zhangsan")
    page.fill("#id_password", "tongban-demo")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/apply/bundle/T-BUNDLE/"))

    # situation guide → the exact material list
    assert page.locator("#start-application").count() == 0
    page.get_by_label("租赁").check()
    page.get_by_role("button", name="查看材料清单").click()
    materials = page.locator("table").first
    assert "租赁合同" in materials.inner_text()
    assert materials.inner_text().count("申请人身份证明") == 1
    page.click("#start-application")
    page.wait_for_url(re.compile(r"/my/applications/YX\d+/fill/"))
    ref = page.url.rstrip("/").split("/")[-2]

    # the merged form is rendered by the JS renderer from the JSON Schema; a shared field appears once
    page.wait_for_selector("#schema-form[data-rendered=js]")
    assert page.locator("[name=shop_address]").count() == 1
    assert page.locator("[name=applicant_name]").count() == 1
    shared = page.locator(".field[data-path=shop_address] .shared")
    assert "食品经营许可、消防安全检查" in shared.inner_text()

    page.get_by_label("申请人姓名").fill("张三")
    page.get_by_label("联系电话").fill("123")  # wrong: 11 digits starting with 1
    page.get_by_label("经营场所").fill("云溪市青山区翠湖路1号")
    page.get_by_label("面积").fill("0")  # wrong: minimum 1

    # a wrong file type is refused in the browser before any upload
    file_inputs = page.locator("input[type=file]")
    first_file = file_inputs.nth(0)
    first_file.set_input_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"})
    first_id = first_file.get_attribute("id")
    assert "不支持的文件类型" in page.locator(f"#{first_id}-error").inner_text()
    for i in range(file_inputs.count()):
        file_inputs.nth(i).set_input_files({"name": f"material-{i}.pdf", "mimeType": "application/pdf",
                                            "buffer": PDF + str(i).encode()})
    assert page.locator(f"#{first_id}-error").is_hidden()

    # client-side validation stops the submission and says what is wrong, next to each field
    page.click("#submit-application")
    phone_error = page.locator("#f-applicant_phone-error")
    assert phone_error.is_visible() and "格式不正确" in phone_error.inner_text()
    area_error = page.locator("#f-shop_area_sqm-error")
    assert area_error.is_visible() and "不能小于 1" in area_error.inner_text()
    assert page.locator("#f-applicant_phone").get_attribute("aria-invalid") == "true"
    summary = page.locator("#error-summary")
    assert summary.is_visible() and page.evaluate("document.activeElement.id") == "error-summary"
    assert "/fill/" in page.url
    page.screenshot(path="/tmp/hportal-form-errors.png", full_page=True)
    assert Application.objects.get(ref=ref).status == Application.Status.DRAFT

    # fix the errors: the messages go away as the fields become valid
    page.get_by_label("联系电话").fill("13800000000")
    page.get_by_label("面积").fill("80")
    page.get_by_label("面积").blur()
    assert phone_error.is_hidden() and area_error.is_hidden()

    page.click("#submit-application")
    page.wait_for_url(re.compile(rf"/my/applications/{ref}/$"))
    assert "已提交待受理" in page.locator("#app-status").inner_text()
    page.screenshot(path="/tmp/hportal-case.png", full_page=True)

    app = Application.objects.get(ref=ref)
    assert app.status == Application.Status.SUBMITTED
    assert app.form_data == {"applicant_name": "张三", "applicant_phone": "13800000000",
                             "shop_address": "云溪市青山区翠湖路1号", "shop_area_sqm": 80}
    assert not app.materials.filter(status="missing").exists()

    # the same form on a phone-sized screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/my/")
    page.screenshot(path="/tmp/hportal-mobile-my.png", full_page=True)
    assert ref in page.content()
    page.close()
