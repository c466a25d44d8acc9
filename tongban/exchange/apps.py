from django.apps import AppConfig

# The demo registers (provider tables) whose codes the demo catalogue's materials use as data_resource.
DEMO_RESOURCE_CODES = ("household_register", "business_register", "social_insurance", "real_estate_register",
                       "birth_medical_certificate")


class ExchangeConfig(AppConfig):
    name = "tongban.exchange"
    label = "exchange"
    verbose_name = "数据共享交换 exchange"

    def ready(self) -> None:
        from tongban.core import evidence

        from . import grant_process  # noqa: F401  (registers the exchange.apply_grant_decision handler)
        from .broker import broker
        from .providers import ResourceProvider, resolve_shared

        for code in DEMO_RESOURCE_CODES:
            evidence.register_provider(evidence.SHARED, code, ResourceProvider(code))
        evidence.register_resolver(evidence.SHARED, resolve_shared)
        evidence.set_broker(broker)
        evidence.set_consent_recorder(_record_consent)
        _install_labels()


def _record_consent(**kwargs: object) -> str:
    from .services import give_consent

    return str(give_consent(**kwargs).ref)


def _resource_names() -> dict[str, str]:
    from .models import DataResource

    return dict(DataResource.objects.values_list("code", "name"))


def _field_titles() -> dict[str, str]:
    """Every data item's Chinese title from the resources' own schemas (the first title wins)."""
    from .models import DataResource

    titles: dict[str, str] = {}
    for schema in DataResource.objects.values_list("schema", flat=True):
        for key, spec in ((schema or {}).get("properties") or {}).items():
            if isinstance(spec, dict) and spec.get("title"):
                titles.setdefault(key, spec["title"])
    return titles


def _install_labels() -> None:
    """Pages name data resources and data items by their catalogue titles (core.labels)."""
    from django.db.models.signals import post_save

    from tongban.core import labels

    from .models import DataResource

    labels.cached("data_resource", _resource_names)
    labels.cached("data_field", _field_titles)
    post_save.connect(labels.clear_cache, sender=DataResource, dispatch_uid="labels.DataResource.save")
