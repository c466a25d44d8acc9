from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("supervision/", views.workbench, name="workbench"),
    path("supervision/post-checks/", views.post_checks, name="post_checks"),
    path("supervision/records/<int:record_id>/receive/", views.receive, name="receive"),
    path("supervision/inspections/<int:inspection_id>/", views.inspection_result, name="inspection_result"),
    path("supervision/repairs/<int:repair_id>/review/", views.review_repair, name="review_repair"),
    path("supervision/entities/<str:uscc>/", views.entity_page, name="entity"),
    path("supervision/entities/<str:uscc>/repair/", views.apply_repair, name="apply_repair"),
    path("supervision/draws/", views.draws_page, name="draws"),
    path("supervision/draws/<int:draw_id>/", views.draw_page, name="draw"),
]
