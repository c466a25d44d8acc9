from django.urls import path

from . import views
from .accountability import views as accountability_views
from .mining import views as mining_views

app_name = "insight"

urlpatterns: list = [
    # indicators and dashboards (docs/insight.md)
    path("insight/", views.public_page, name="public"),
    path("insight/staff/", views.staff_page, name="staff"),
    path("insight/staff/drill/", views.drill_page, name="drill"),
    path("insight/export.csv", views.export_csv, name="export_csv"),
    path("insight/export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("insight/report.pdf", views.report_pdf, name="report_pdf"),
    # process mining (docs/insight.md, "Process mining")
    path("insight/mining/", mining_views.mining_page, name="mining"),
    # 容错纠错 (docs/insight.md, "容错纠错")
    path("insight/accountability/", accountability_views.leads_page, name="leads"),
    path("insight/accountability/<int:lead_id>/", accountability_views.lead_page, name="lead"),
    path("insight/accountability/<int:lead_id>/apply/", accountability_views.apply_page, name="lead_apply"),
    path("insight/accountability/<int:lead_id>/decide/", accountability_views.decide_page, name="lead_decide"),
]
