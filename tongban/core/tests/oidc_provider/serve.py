"""Start the test OpenID provider: migrate its own SQLite database, create the accounts (``OIDC_PROVIDER_CLAIMS``,
password ``pw``) and the platform's client registration, then serve on ``OIDC_PROVIDER_PORT`` (prints READY)."""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.core.tests.oidc_provider.settings")
django.setup()

from wsgiref.simple_server import WSGIRequestHandler, make_server  # noqa: E402

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def main() -> None:
    call_command("migrate", verbosity=0)
    for username in json.loads(os.environ["OIDC_PROVIDER_CLAIMS"]):
        User.objects.create_user(username, password="pw")
    Application.objects.create(
        name="tongban", client_id=os.environ["OIDC_CLIENT_ID"], client_secret=os.environ["OIDC_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["OIDC_REDIRECT_URI"], algorithm=Application.RS256_ALGORITHM, skip_authorization=True)
    server = make_server("127.0.0.1", int(os.environ["OIDC_PROVIDER_PORT"]), get_wsgi_application(),
                         handler_class=QuietHandler)
    print("READY", flush=True)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
