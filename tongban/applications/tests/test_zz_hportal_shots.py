import os, re
import pytest
from tongban.applications.models import Application
from tongban.applications.tests.test_browser import ARGS, CHROMIUM, PDF
from tongban.workflow.models import Task
from tongban.applications import services, files
from tongban.applications.services import Selection


def test_shots(transactional_db, live_server, small_catalog, users, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, bundle_code="T-BUNDLE",
                                      situations={"T-FIRE-01": Selection("T-FIRE-01", answers={"premises": "租赁"})})
    for m in app.materials.all():
        if m.requirement != "tolerable":
            services.attach_file(app, m.key, files.store_bytes(PDF + m.key.encode(), name="a.pdf", content_type="application/pdf"), zhang)
    services.submit(app, zhang, {"applicant_name": "张三", "applicant_phone": "13800000000", "shop_address": "翠湖路1号", "shop_area_sqm": 80})
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = b.new_page(viewport={"width": 1100, "height": 900})
        def login(u):
            page.goto(live_server.url + "/accounts/logout/") if False else None
            page.context.clear_cookies()
            page.goto(live_server.url + "/accounts/login/")
            page.fill("#id_username", u); page.fill("#id_password", "tongban-demo"); page.click("button[type=submit]")
        login("zhangsan")
        page.goto(live_server.url + "/apply/bundle/T-BUNDLE/?q-1=租赁")
        page.screenshot(path="/tmp/hportal-guide.png", full_page=True)
        login("clerk")
        page.goto(live_server.url + "/window/")
        page.screenshot(path="/tmp/hportal-window.png", full_page=True)
        page.goto(live_server.url + f"/window/applications/{app.ref}/")
        page.screenshot(path="/tmp/hportal-window-case.png", full_page=True)
        page.click("button[value=tolerate]")
        login("approver-scjg")
        t = Task.objects.filter(candidate_org__code="yx-scjg", state="open").first()
        Task.objects.filter(pk=t.pk).update(started_on=t.started_on.replace(day=1))
        page.goto(live_server.url + "/workbench/")
        page.screenshot(path="/tmp/hportal-workbench.png", full_page=True)
        page.goto(live_server.url + f"/workbench/tasks/{t.pk}/")
        page.screenshot(path="/tmp/hportal-task.png", full_page=True)
        n = app.notices.first()
        page.goto(live_server.url + f"/notices/verify/{n.code}/")
        page.screenshot(path="/tmp/hportal-verify.png", full_page=True)
        b.close()
