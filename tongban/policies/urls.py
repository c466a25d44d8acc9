from django.urls import path

from . import views

app_name = "policies"

urlpatterns = [
    path("policies/", views.officer, name="officer"),
    path("policies/my/", views.my_policies, name="my"),
    path("policies/my/<int:match_id>/<str:action>/", views.my_action, name="my_action"),
    path("policies/manage/<str:code>/<str:action>/", views.officer_action, name="officer_action"),
]
