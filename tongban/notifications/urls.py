from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("messages/<int:message_id>/", views.message_detail, name="message"),
    path("messages/read-all/", views.read_all, name="read_all"),
    path("messages/settings/", views.preferences, name="preferences"),
]
