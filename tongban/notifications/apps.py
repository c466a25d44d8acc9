from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tongban.notifications"
    label = "notifications"
    verbose_name = "消息通知 notifications"

    def ready(self) -> None:
        from tongban.core import events

        from . import channels, receivers

        channels.register_builtin()
        events.credential_issued.connect(receivers.on_credential_issued, dispatch_uid="notifications.credential")
