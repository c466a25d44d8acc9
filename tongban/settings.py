"""Django settings for tongban, read from environment variables.

- ``TONGBAN_HOME`` (default ``./var``): embedded SQLite database, uploaded files and keys.
- ``DATABASE_URL``: when set (e.g. ``postgres://127.0.0.1:5432/test``), used instead of SQLite.
- ``TONGBAN_DEBUG``, ``TONGBAN_SECRET_KEY``, ``TONGBAN_ALLOWED_HOSTS``: the usual web settings.
- ``TONGBAN_HTTPS=1`` and friends: production transport security (Secure cookies, HSTS, SSL redirect behind a
  reverse proxy); ``TONGBAN_SESSION_SECONDS``; the Content-Security-Policy; login throttling and lockout
  (``TONGBAN_LOGIN_*``). Every setting is listed in the README's configuration table; docs/security.md says what
  each protects.
- ``TONGBAN_PII_KEYS_DIR``: the keyring that encrypts personal data at rest (docs/privacy.md).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from tongban.apps_registry import INSTALLED_CONTEXTS

BASE_DIR = Path(__file__).resolve().parent
TONGBAN_HOME = Path(os.environ.get("TONGBAN_HOME", "var")).resolve()
TONGBAN_HOME.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def _env_float(name: str, default: float, *, minimum: float = 0.0, maximum: float | None = None) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    if number < minimum or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, not {number}")
    return number


def _proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """``X-Forwarded-Proto=https`` → ``("HTTP_X_FORWARDED_PROTO", "https")``; empty or ``off`` → None."""
    value = value.strip()
    if value.lower() in {"", "0", "off", "none", "false", "no"}:
        return None
    name, sep, expected = value.partition("=")
    if not sep or not name.strip() or not expected.strip():
        raise ImproperlyConfigured(f"TONGBAN_PROXY_SSL_HEADER must look like X-Forwarded-Proto=https, not {value!r}")
    return "HTTP_" + name.strip().upper().replace("-", "_"), expected.strip()


def _secret_key() -> str:
    """An explicit key from the environment, else one generated once and kept under TONGBAN_HOME."""
    key = os.environ.get("TONGBAN_SECRET_KEY")
    if key:
        return key
    path = TONGBAN_HOME / "secret_key"
    if not path.exists():
        from django.core.management.utils import get_random_secret_key

        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("TONGBAN_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("TONGBAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "simple_history",
    "rules.apps.AutodiscoverRulesConfig",
    "django_tasks",
    "django_tasks_db",
    "axes",
    *(f"tongban.{name}" for name in INSTALLED_CONTEXTS),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tongban.core.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tongban.core.middleware.BearerTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout answer
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "tongban.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{TONGBAN_HOME / 'tongban.sqlite3'}",
        conn_max_age=int(os.environ.get("TONGBAN_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process and the background worker share the embedded database.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20,
         "transaction_mode": "IMMEDIATE"}
    )
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TONGBAN_TEST_SQLITE", "")} if os.environ.get(
        "TONGBAN_TEST_SQLITE"
    ) else {}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "tongban.core.login_protection.LoginProtectionBackend",  # first: refuses locked-out accounts and addresses
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# 统一身份认证 (OpenID Connect, docs/security.md "Unified identity"): on when an issuer is configured.
TONGBAN_OIDC_ISSUER = os.environ.get("TONGBAN_OIDC_ISSUER", "")
TONGBAN_OIDC_CLIENT_ID = os.environ.get("TONGBAN_OIDC_CLIENT_ID", "")
TONGBAN_OIDC_CLIENT_SECRET = os.environ.get("TONGBAN_OIDC_CLIENT_SECRET", "")
TONGBAN_OIDC_SCOPES = os.environ.get("TONGBAN_OIDC_SCOPES", "openid profile")
TONGBAN_OIDC_SIGN_ALGO = os.environ.get("TONGBAN_OIDC_SIGN_ALGO", "RS256")
TONGBAN_OIDC_ID_NUMBER_CLAIM = os.environ.get("TONGBAN_OIDC_ID_NUMBER_CLAIM", "id_number")
TONGBAN_OIDC_KIND_CLAIM = os.environ.get("TONGBAN_OIDC_KIND_CLAIM", "user_kind")
TONGBAN_OIDC_NAME_CLAIM = os.environ.get("TONGBAN_OIDC_NAME_CLAIM", "name")
TONGBAN_OIDC_LABEL = os.environ.get("TONGBAN_OIDC_LABEL", "统一身份认证登录")
TONGBAN_OIDC_VERIFY_SSL = _env_bool("TONGBAN_OIDC_VERIFY_SSL", True)
if TONGBAN_OIDC_ISSUER:
    AUTHENTICATION_BACKENDS.append("tongban.core.oidc.OIDCBackend")
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# Chinese first, English available.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TONGBAN_TIME_ZONE", "Asia/Shanghai")  # local time of pages, notices and clocks
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = TONGBAN_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = TONGBAN_HOME / "files"
MEDIA_URL = "/media/"
KEYS_DIR = TONGBAN_HOME / "keys"
# The keyring that encrypts personal data at rest (docs/privacy.md); backed up with the other keys.
PII_KEYS_DIR = Path(os.environ.get("TONGBAN_PII_KEYS_DIR") or TONGBAN_HOME / "keys" / "pii").resolve()

# Background work: Django's tasks framework (django.tasks; the django-tasks backport on Django 5.2).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TONGBAN_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# E-mail (notifications' e-mail channel, docs/notifications.md): written to files under TONGBAN_HOME/outbox/mail
# unless an SMTP server is configured.
EMAIL_BACKEND = os.environ.get("TONGBAN_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("TONGBAN_EMAIL_DIR") or str(TONGBAN_HOME / "outbox" / "mail")
EMAIL_HOST = os.environ.get("TONGBAN_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("TONGBAN_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("TONGBAN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("TONGBAN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("TONGBAN_EMAIL_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("TONGBAN_EMAIL_FROM", "noreply@localhost")

NINJA_PAGINATION_PER_PAGE = 20
# The login page lists the demo accounts while they exist (turn off in production).
TONGBAN_SHOW_DEMO_ACCOUNTS = _env_bool("TONGBAN_SHOW_DEMO_ACCOUNTS", True)

# --- Production transport security (docs/security.md) --------------------------------------------------------
TONGBAN_HTTPS = _env_bool("TONGBAN_HTTPS", False)
SESSION_COOKIE_AGE = _env_int("TONGBAN_SESSION_SECONDS", 8 * 3600, minimum=60)  # one working day
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = TONGBAN_HTTPS
if TONGBAN_HTTPS:
    SECURE_SSL_REDIRECT = _env_bool("TONGBAN_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = _env_int("TONGBAN_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("TONGBAN_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_bool("TONGBAN_HSTS_PRELOAD", True)
    # Behind the reverse proxy that terminates TLS: the header it sets (and strips from clients) says "https".
    SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(os.environ.get("TONGBAN_PROXY_SSL_HEADER", "X-Forwarded-Proto=https"))
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("TONGBAN_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Content-Security-Policy (django-csp): only this site's own (vendored) scripts, no inline script or handler;
# a template that needs an inline script gives it ``nonce="{{ request.csp_nonce }}"``.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if os.environ.get("TONGBAN_CSP_REPORT_URI"):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = os.environ["TONGBAN_CSP_REPORT_URI"]

# --- Platform behaviour (each one is a row of the README's configuration table) -------------------------------
TONGBAN_API_TOKEN_MAX_AGE = _env_int("TONGBAN_API_TOKEN_MAX_AGE", 8 * 3600, minimum=60)  # bearer token lifetime
# published item/bundle definitions and merged forms kept per process (catalog/definitions.py); 0 = off
TONGBAN_CATALOG_CACHE_SECONDS = _env_int("TONGBAN_CATALOG_CACHE_SECONDS", 5, minimum=0)
TONGBAN_MAX_UPLOAD_BYTES = _env_int("TONGBAN_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
TONGBAN_VIRUS_SCANNER = os.environ.get("TONGBAN_VIRUS_SCANNER", "")  # dotted path of a scanner; "" = built-in
TONGBAN_CLOCK_YELLOW_SHARE = _env_float("TONGBAN_CLOCK_YELLOW_SHARE", 0.8, minimum=0.0, maximum=1.0)
TONGBAN_CLOCK_ESCALATION_ROLE = os.environ.get("TONGBAN_CLOCK_ESCALATION_ROLE", "supervisor")
TONGBAN_WORKFLOW_INLINE = _env_bool("TONGBAN_WORKFLOW_INLINE", False)
TONGBAN_WORKFLOW_TICK_SECONDS = _env_int("TONGBAN_WORKFLOW_TICK_SECONDS", 60, minimum=1)
TONGBAN_EXCHANGE_GRANT_DAYS = _env_int("TONGBAN_EXCHANGE_GRANT_DAYS", 365, minimum=1)
TONGBAN_EXCHANGE_GRANT_PROCESS = _env_bool("TONGBAN_EXCHANGE_GRANT_PROCESS", True)
TONGBAN_EXCHANGE_TIMEOUT = _env_float("TONGBAN_EXCHANGE_TIMEOUT", 3.0, minimum=0.01)
TONGBAN_EXCHANGE_RETRIES = _env_int("TONGBAN_EXCHANGE_RETRIES", 2)
TONGBAN_EXCHANGE_BACKOFF = _env_float("TONGBAN_EXCHANGE_BACKOFF", 0.2)
TONGBAN_EXCHANGE_BREAKER_THRESHOLD = _env_int("TONGBAN_EXCHANGE_BREAKER_THRESHOLD", 5, minimum=1)
TONGBAN_EXCHANGE_BREAKER_COOLDOWN = _env_float("TONGBAN_EXCHANGE_BREAKER_COOLDOWN", 30.0)
TONGBAN_EXCHANGE_STH_EVERY = _env_int("TONGBAN_EXCHANGE_STH_EVERY", 1000, minimum=1)
TONGBAN_EXCHANGE_STH_MAX_AGE = _env_int("TONGBAN_EXCHANGE_STH_MAX_AGE", 60, minimum=1)


# --- Login protection (django-axes; tongban/core/login_protection.py) ----------------------------------------
# Failed sign-ins are counted per account and per client address over a sliding cool-off window; at the limit
# the account (or the address) is locked until the window has passed, even for the right password.
TONGBAN_LOGIN_FAILURE_LIMIT = _env_int("TONGBAN_LOGIN_FAILURE_LIMIT", 10, minimum=1)
TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT = _env_int("TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT", 50, minimum=1)
TONGBAN_LOGIN_COOLOFF_MINUTES = _env_int("TONGBAN_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
# Reverse proxies in front of the platform that append to X-Forwarded-For (0: the client is REMOTE_ADDR).
TONGBAN_PROXY_COUNT = _env_int("TONGBAN_PROXY_COUNT", 0)
AXES_ENABLED = True
AXES_HANDLER = "tongban.core.login_protection.LoginProtectionHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # in this order (the handler weighs each by its own limit)
AXES_FAILURE_LIMIT = TONGBAN_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=TONGBAN_LOGIN_COOLOFF_MINUTES)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lockout ends on time, attempts while locked don't count
AXES_LOCKOUT_CALLABLE = "tongban.core.login_protection.lockout_response"
AXES_CLIENT_IP_CALLABLE = "tongban.core.login_protection.client_ip"
AXES_ENABLE_ADMIN = False  # core's admin registers the attempts with an audited unlock
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # one row per failed sign-in: the security scan's failed-login rule counts them

# --- 免申即享 (tongban/policies, docs/smart-services.md): hours between the nightly batch matches (0: never) ---------
TONGBAN_POLICIES_BATCH_HOURS = _env_int("TONGBAN_POLICIES_BATCH_HOURS", 24)

# --- Security operations (tongban/security: detection rules, incidents, docs/security-operations.md) -----------
TONGBAN_SECURITY_SCAN_SECONDS = _env_int("TONGBAN_SECURITY_SCAN_SECONDS", 300, minimum=10)
TONGBAN_SECURITY_REFUSED_QUERIES = _env_int("TONGBAN_SECURITY_REFUSED_QUERIES", 20, minimum=1)
TONGBAN_SECURITY_REFUSED_WINDOW_MINUTES = _env_int("TONGBAN_SECURITY_REFUSED_WINDOW_MINUTES", 10, minimum=1)
TONGBAN_SECURITY_PERSONAL_READS = _env_int("TONGBAN_SECURITY_PERSONAL_READS", 100, minimum=1)
TONGBAN_SECURITY_PERSONAL_WINDOW_HOURS = _env_int("TONGBAN_SECURITY_PERSONAL_WINDOW_HOURS", 24, minimum=1)
TONGBAN_SECURITY_LOGIN_FAILURES = _env_int("TONGBAN_SECURITY_LOGIN_FAILURES", 30, minimum=1)
TONGBAN_SECURITY_LOGIN_WINDOW_MINUTES = _env_int("TONGBAN_SECURITY_LOGIN_WINDOW_MINUTES", 15, minimum=1)

# insight: the indicator file (YAML); empty = the one shipped in tongban/insight/indicators/definitions.yaml
TONGBAN_INSIGHT_INDICATORS = os.environ.get("TONGBAN_INSIGHT_INDICATORS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refused_as_one_line": {"()": "tongban.core.request_log.RefusedRequestLine"},
                "mask_personal_data": {"()": "tongban.core.masking.PiiLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_personal_data"]}},
    "loggers": {"django.request": {"filters": ["refused_as_one_line"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("TONGBAN_LOG_LEVEL", "WARNING")},
}
