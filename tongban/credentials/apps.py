from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "tongban.credentials"
    label = "credentials"
    verbose_name = "电子证照 credentials"

    def ready(self) -> None:
        from tongban.core import events

        from . import providers, receivers

        events.decision_made.connect(receivers.on_decision_made, dispatch_uid="credentials.issue_on_approval")
        events.case_closed.connect(receivers.on_case_closed, dispatch_uid="credentials.archive_on_close")
        events.post_check_failed.connect(receivers.on_post_check_failed,
                                         dispatch_uid="credentials.revoke_on_failed_post_check")
        providers.register_builtin_providers()
        _install_labels()
        _install_sealer()


def _install_sealer() -> None:
    """Other contexts' documents (告知文书) are sealed with the organisation's PAdES seal (core.sealing)."""
    from tongban.core import sealing

    from .notices import seal_document

    sealing.SEALERS.register("pdf", seal_document)


def _licence_type_names() -> dict[str, str]:
    from .models import LicenceType

    return dict(LicenceType.objects.values_list("code", "name"))


def _install_labels() -> None:
    """Pages name licence types by their catalogue names (core.labels)."""
    from django.db.models.signals import post_save

    from tongban.core import labels

    from .models import LicenceType

    labels.cached("licence_type", _licence_type_names)
    post_save.connect(labels.clear_cache, sender=LicenceType, dispatch_uid="labels.LicenceType.save")
