from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "tongban.insight"
    label = "insight"
    verbose_name = "评估与洞察 insight"
