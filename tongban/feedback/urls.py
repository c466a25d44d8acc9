from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("feedback/stats/", views.stats_page, name="stats"),
    path("feedback/rate/", views.rate_list, name="rate_list"),
    path("feedback/rate/<str:ref>/", views.rate_page, name="rate"),
    path("feedback/pad/<str:token>/", views.pad_page, name="pad"),
    path("feedback/orders/", views.my_orders, name="my_orders"),
    path("feedback/orders/<str:number>/", views.my_order, name="my_order"),
    path("feedback/department/", views.department_page, name="department"),
    path("feedback/department/orders/<str:number>/", views.department_order, name="department_order"),
    path("feedback/department/rectifications/<int:pk>/", views.rectification_page, name="rectification"),
    path("feedback/evaluation/", views.evaluation_page, name="evaluation"),
    path("hotline/", views.hotline_page, name="hotline"),
    path("hotline/import/", views.hotline_import, name="hotline_import"),
    path("hotline/orders/<str:number>/", views.hotline_order, name="hotline_order"),
]
