from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "tongban.applications"
    label = "applications"
    verbose_name = "办件 applications"

    def ready(self) -> None:
        # Registers the service-task handlers the application processes end in.
        from . import workflow_bridge  # noqa: F401
