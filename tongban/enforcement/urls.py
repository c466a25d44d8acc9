from django.urls import path

from . import views

app_name = "enforcement"

urlpatterns = [
    path("enforcement/items/", views.items_page, name="items"),
    path("enforcement/public/", views.public_page, name="public"),
    path("enforcement/bodies/", views.bodies_page, name="bodies"),
    path("enforcement/cases/", views.workbench, name="workbench"),
    path("enforcement/cases/new/", views.case_new, name="case_new"),
    path("enforcement/cases/<str:case_no>/", views.case_detail, name="case"),
    path("enforcement/cases/<str:case_no>/act/", views.case_act, name="case_act"),
    path("enforcement/cases/<str:case_no>/decision.pdf", views.decision_pdf, name="decision_pdf"),
    path("enforcement/review/", views.review_queue, name="review"),
    path("enforcement/head/", views.head_page, name="head"),
]
