from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "tongban.enforcement"
    label = "enforcement"
    verbose_name = "行政执法 enforcement"

    def ready(self) -> None:
        from tongban.core import events

        from . import process, receivers  # noqa: F401  (process registers the periodic publication warning)

        events.enforcement_lead_reported.connect(receivers.on_lead_reported,
                                                 dispatch_uid="enforcement.lead_from_event")
