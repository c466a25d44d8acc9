from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "tongban.feedback"
    label = "feedback"
    verbose_name = "好差评与12345热线 feedback"

    def ready(self) -> None:
        from tongban.core import events

        from . import jobs, receivers  # noqa: F401 - jobs registers the periodic check

        _install_labels()

        events.decision_made.connect(receivers.on_decision_made, dispatch_uid="feedback.invite_rating")
        events.window_service_rendered.connect(receivers.on_window_service, dispatch_uid="feedback.invite_window_rating")


def _install_labels() -> None:
    """Work-order and rectification codes by their Chinese names (core.labels)."""
    from tongban.core import labels

    from .models import Rectification, WorkOrder

    labels.register("order_type", dict(WorkOrder.Type.choices))
    labels.register("order_status", dict(WorkOrder.Status.choices))
    labels.register("rectification_status", dict(Rectification.Status.choices))
    labels.register("evaluation_dataset", {"ratings": "评价", "orders": "工单", "cases": "办件",
                                           "rectifications": "整改", "services": "服务记录"})
