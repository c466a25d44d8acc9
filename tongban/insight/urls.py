from django.urls import path

from . import views
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
    # process mining (docs/insight-mining.md)
    path("insight/mining/", mining_views.mining_page, name="mining"),
]
