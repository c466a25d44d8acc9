from django.urls import path

from . import views

app_name = "security"

urlpatterns = [
    path("security/incidents/", views.incident_list, name="incidents"),
    path("security/incidents/<int:incident_id>/", views.incident_detail, name="incident"),
    path("security/incidents/<int:incident_id>/transition/", views.incident_transition, name="incident_transition"),
    path("security/my-notices/", views.my_notices, name="my_notices"),
    path("security/my-notices/<int:notice_id>/read/", views.notice_read, name="notice_read"),
]
