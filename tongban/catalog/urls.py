from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("catalog/", views.catalog_index, name="index"),
    path("catalog/items/<str:code>/", views.item_guide, name="item"),
    path("catalog/bundles/", views.bundle_list, name="bundles"),
    path("catalog/bundles/<str:code>/", views.bundle_detail, name="bundle"),
    path("lists/", views.lists_index, name="lists"),
    path("lists/<str:org_code>/", views.list_detail, name="list"),
    path("lists/<str:org_code>/diff/", views.list_diff, name="list_diff"),
]
