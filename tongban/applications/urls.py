"""Pages of the applications context (办件): applicant portal, window, workbench, projects, verification."""

from django.urls import path

from .views import applicant, apply, approver, assistance, documents, window

app_name = "applications"

urlpatterns = [
    # applicant portal
    path("my/", applicant.my_applications, name="my"),
    path("my/applications/<str:ref>/", applicant.my_application, name="my_application"),
    path("my/applications/<str:ref>/fill/", apply.fill, name="fill"),
    path("my/applications/<str:ref>/supplement/", applicant.supplement, name="supplement"),
    path("my/applications/<str:ref>/correction/", applicant.correction, name="correction"),
    path("my/proxies/", applicant.proxies, name="proxies"),
    path("my/proxies/<int:pk>/letter/", documents.proxy_letter, name="proxy_letter"),
    path("apply/", apply.apply_index, name="apply_index"),
    path("apply/item/<str:code>/", apply.apply, {"kind": "item"}, name="apply_item"),
    path("apply/bundle/<str:code>/", apply.apply, {"kind": "bundle"}, name="apply_bundle"),
    # downloads (files are outside the web root; each view checks access)
    path("applications/<str:ref>/notices/<str:code>.pdf", documents.notice_pdf, name="notice_pdf"),
    path("applications/<str:ref>/materials/<int:pk>/file", documents.material_file, name="material_file"),
    # one-window intake (综合窗口)
    path("window/", window.window_queue, name="window"),
    path("window/applications/<str:ref>/", window.window_application, name="window_application"),
    path("window/applications/<str:ref>/action/", window.window_action, name="window_action"),
    path("window/assist/", window.window_assist, name="window_assist"),
    path("window/assistance/", assistance.window_assistance, name="window_assistance"),
    path("window/assistance/<int:pk>/handled/", assistance.window_assistance_handled,
         name="window_assistance_handled"),
    # 帮办预约: anyone asks a service centre for help at a window or by phone
    path("assist/", assistance.assist, name="assist"),
    path("assist/done/", assistance.assist_done, name="assist_done"),
    # public verification of notices
    path("notices/verify/", documents.verify_notice, name="verify_form"),
    path("notices/verify/<str:code>/", documents.verify_notice, name="verify_notice"),
    # approver workbench (审批工作台)
    path("workbench/", approver.workbench, name="workbench"),
    path("workbench/tasks/<int:task_id>/", approver.task_detail, name="task"),
    path("workbench/tasks/<int:task_id>/action/", approver.task_action, name="task_action"),
    path("workbench/post-checks/", approver.post_checks, name="post_checks"),
    # investment projects (投资项目)
    path("projects/", applicant.projects, name="projects"),
    path("projects/<str:code>/", applicant.project, name="project"),
]
