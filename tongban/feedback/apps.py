from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "tongban.feedback"
    label = "feedback"
    verbose_name = "好差评与12345热线 feedback"

    def ready(self) -> None:
        from tongban.core import events

        from . import jobs, receivers  # noqa: F401 - jobs registers the periodic check

        events.decision_made.connect(receivers.on_decision_made, dispatch_uid="feedback.invite_rating")
        events.window_service_rendered.connect(receivers.on_window_service, dispatch_uid="feedback.invite_window_rating")
