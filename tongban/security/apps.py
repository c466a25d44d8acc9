from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "tongban.security"
    label = "security"
    verbose_name = "信息安全运营 security operations"

    def ready(self) -> None:
        from . import (
            process,  # noqa: F401  (registers the incident process's service-task handlers, the scan job)
            rules,  # noqa: F401  (registers the built-in detection rules)
        )
