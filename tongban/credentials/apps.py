from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "tongban.credentials"
    label = "credentials"
    verbose_name = "电子证照 credentials"
