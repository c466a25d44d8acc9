from django.urls import path

from . import views

app_name = "credentials"

urlpatterns = [
    path("verify/", views.verify_page, name="verify"),
    path("verify/<uuid:credential_id>/", views.verify_page, name="verify_credential"),
    path("credentials/wallet/", views.wallet_page, name="wallet"),
    path("credentials/manage/", views.manage_page, name="manage"),
    path("credentials/manage/<uuid:credential_id>/status/", views.change_status_view, name="change_status"),
]
