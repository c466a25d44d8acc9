from django.urls import path  # noqa: F401  (each feature appends its pages below)

app_name = "insight"

urlpatterns: list = []
