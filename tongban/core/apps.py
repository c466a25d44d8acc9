from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tongban.core"
    label = "core"
    verbose_name = "基础 core"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import labels
        from .models import Organisation, Role

        labels.install_core_labels()
        for model in (Organisation, Role):
            post_save.connect(labels.clear_cache, sender=model, dispatch_uid=f"labels.{model.__name__}.save")
            post_delete.connect(labels.clear_cache, sender=model, dispatch_uid=f"labels.{model.__name__}.delete")
