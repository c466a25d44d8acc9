from django.urls import path

app_name = "insight"

urlpatterns: list = []

# process mining (docs/insight-mining.md)
from .mining import views as _mining_views  # noqa: E402

urlpatterns += [path("insight/mining/", _mining_views.mining_page, name="mining")]
