from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("exchange/resources/", views.resource_list, name="resources"),
    path("exchange/resources/<slug:code>/", views.resource_detail, name="resource"),
    path("exchange/grants/", views.grant_list, name="grants"),
    path("exchange/grants/new/", views.grant_request, name="grant_request"),
    path("exchange/grants/<int:grant_id>/decide/", views.grant_decide, name="grant_decide"),
    path("exchange/grants/<int:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("exchange/my-data/", views.my_data, name="my_data"),
    path("exchange/my-data/consents/<str:ref>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("exchange/log/", views.log_page, name="log"),
]
