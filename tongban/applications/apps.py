from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "tongban.applications"
    label = "applications"
    verbose_name = "办件 applications"

    def ready(self) -> None:
        # Registers the service-task handlers the application processes end in.
        from tongban.core import events

        from . import workflow_bridge  # noqa: F401
        from .services import post_checks

        events.post_check_failed.connect(post_checks.revoke_after_failed_post_check,
                                         dispatch_uid="applications.revoke_on_failed_post_check")
