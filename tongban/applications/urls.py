"""Pages of the applications context (办件): applicant portal, window, workbench, projects, verification."""

from django.urls import path

from . import views

app_name = "applications"

urlpatterns = [
    # applicant portal
    path("my/", views.my_applications, name="my"),
    path("my/applications/<str:ref>/", views.my_application, name="my_application"),
    path("my/applications/<str:ref>/fill/", views.fill, name="fill"),
    path("my/applications/<str:ref>/supplement/", views.supplement, name="supplement"),
    path("my/applications/<str:ref>/correction/", views.correction, name="correction"),
    path("my/proxies/", views.proxies, name="proxies"),
    path("my/proxies/<int:pk>/letter/", views.proxy_letter, name="proxy_letter"),
    path("apply/", views.apply_index, name="apply_index"),
    path("apply/item/<str:code>/", views.apply, {"kind": "item"}, name="apply_item"),
    path("apply/bundle/<str:code>/", views.apply, {"kind": "bundle"}, name="apply_bundle"),
    # downloads (files are outside the web root; each view checks access)
    path("applications/<str:ref>/notices/<str:code>.pdf", views.notice_pdf, name="notice_pdf"),
    path("applications/<str:ref>/materials/<int:pk>/file", views.material_file, name="material_file"),
    # one-window intake (综合窗口)
    path("window/", views.window_queue, name="window"),
    path("window/applications/<str:ref>/", views.window_application, name="window_application"),
    path("window/applications/<str:ref>/action/", views.window_action, name="window_action"),
    path("window/assist/", views.window_assist, name="window_assist"),
    # public verification of notices
    path("notices/verify/", views.verify_notice, name="verify_form"),
    path("notices/verify/<str:code>/", views.verify_notice, name="verify_notice"),
    # approver workbench (审批工作台)
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/tasks/<int:task_id>/", views.task_detail, name="task"),
    path("workbench/tasks/<int:task_id>/action/", views.task_action, name="task_action"),
    path("workbench/post-checks/", views.post_checks, name="post_checks"),
    # investment projects (投资项目)
    path("projects/", views.projects, name="projects"),
    path("projects/<str:code>/", views.project, name="project"),
]
