from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "tongban.enforcement"
    label = "enforcement"
    verbose_name = "行政执法 enforcement"

    def ready(self) -> None:
        from tongban.core import events

        from . import process, receivers  # noqa: F401  (process registers the periodic publication warning)

        _install_labels()

        events.enforcement_lead_reported.connect(receivers.on_lead_reported,
                                                 dispatch_uid="enforcement.lead_from_event")


def _fact_names() -> dict[str, str]:
    from .models import EnforcementItem

    return dict(EnforcementItem.objects.exclude(measure="").values_list("measure", "measure_label"))


def _install_labels() -> None:
    """Penalty kinds, case stages and discretion facts by their Chinese names (core.labels)."""
    from tongban.core import labels

    from .models import EnforcementCase, PenaltyKind

    labels.register("penalty_kind", dict(PenaltyKind.choices))
    labels.register("enforcement_stage", {**dict(EnforcementCase.Stage.choices), "investigate": "调查取证",
                                          "decide": "作出决定", "serve": "送达", "execute": "执行", "close": "结案"})
    labels.cached("fact", _fact_names)
