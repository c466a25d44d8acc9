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


def _record_consent(**kwargs: object) -> str:
    from .services import give_consent

    return str(give_consent(**kwargs).ref)
