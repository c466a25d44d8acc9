from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "tongban.catalog"
    label = "catalog"
    verbose_name = "事项目录 catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import (
            definitions,  # noqa: F401  (empties the definition cache when the catalogue changes)
            search,
        )
        from .models import Bundle, BundleItem, ServiceItem

        for model in (ServiceItem, Bundle, BundleItem):
            post_save.connect(search.clear_index, sender=model, dispatch_uid=f"catalog.search.{model.__name__}.save")
            post_delete.connect(search.clear_index, sender=model,
                                dispatch_uid=f"catalog.search.{model.__name__}.delete")
