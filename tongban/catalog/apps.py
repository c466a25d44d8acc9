from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "tongban.catalog"
    label = "catalog"
    verbose_name = "事项目录 catalog"

    def ready(self) -> None:
        from . import definitions  # noqa: F401  (empties the definition cache when the catalogue changes)
