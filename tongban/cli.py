"""The ``tongban`` command line.

Every bounded context may contribute commands in ``tongban/<app>/cli.py`` through a function
``register(app: typer.Typer) -> None``; they are added here. Django is set up before any command runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from django.core.management.base import BaseCommand

app = typer.Typer(
    help="通办 tongban: integrated government service platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()


def _django(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def _migrate(quiet: bool = True) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0 if quiet else 1)


def _start_worker() -> subprocess.Popen[bytes]:
    """The background worker for timers and service tasks (django.tasks database backend)."""
    return subprocess.Popen([sys.executable, "-m", "tongban", "worker"])


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=5)


def _serve(port: int, with_worker: bool = True, workers: int | None = None, server: str | None = None) -> None:
    """Serve on 127.0.0.1:``port`` with the production server (``tongban.core.server``: granian by default,
    workers = cores) and the background worker; SIGTERM or Ctrl+C stops both."""
    from tongban.core import server as web

    server = server or web.default_server()
    workers = workers or web.default_workers()
    worker = _start_worker() if with_worker else None
    typer.echo(f"通办 tongban 已启动: http://127.0.0.1:{port}/  ({server}, {workers} 个进程; Ctrl+C 退出)")

    def stop_worker() -> None:
        if worker is not None:
            _stop_worker(worker)

    web.run(server, "127.0.0.1", port, workers, on_stop=stop_worker)


_WORKERS_HELP = "Web server processes (default: TONGBAN_WEB_WORKERS or the number of cores)."
_SERVER_HELP = "granian (default, or TONGBAN_SERVER), gunicorn, or runserver (development only)."


@app.command()
def demo(
    port: int = typer.Option(8000, help="Port to serve on (127.0.0.1)."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Only migrate and load the demo data."),
    workers: int = typer.Option(0, help=_WORKERS_HELP),
    server: str = typer.Option("", help=_SERVER_HELP),
) -> None:
    """Migrate, load the demo data (idempotent), then serve on 127.0.0.1."""
    from tongban.demo import load_demo

    _migrate()
    load_demo()
    if not no_serve:
        _serve(port, workers=workers or None, server=server or None)


@app.command()
def serve(port: int = typer.Option(8000, help="Port to serve on (127.0.0.1)."),
          worker: bool = typer.Option(True, "--worker/--no-worker", help="Also start the background worker."),
          workers: int = typer.Option(0, help=_WORKERS_HELP),
          server: str = typer.Option("", help=_SERVER_HELP),
          ) -> None:
    """Serve the platform (migrating first) with its background worker."""
    _migrate()
    _serve(port, with_worker=worker, workers=workers or None, server=server or None)


def _worker_start_hooks() -> None:
    """Each bounded context's ``tasks.on_worker_start()`` (e.g. workflow schedules its periodic clock check)."""
    from tongban.apps_registry import context_modules

    for _, module in context_modules("tasks"):
        hook = getattr(module, "on_worker_start", None)
        if hook is not None:
            hook()


@app.command()
def worker(
    celery: bool = typer.Option(False, "--celery", help="Run a Celery worker (needs TONGBAN_TASKS_BACKEND="
                                "tongban.workflow.celery_backend.CeleryBackend; then it is also the default)."),
    concurrency: int = typer.Option(1, help="Celery: tasks run at the same time (1: solo pool, more: threads)."),
    beat: bool = typer.Option(True, "--beat/--no-beat", help="Celery: also run beat (the periodic check); "
                              "keep it on one worker only."),
    queue: str = typer.Option("", help="Celery: queue to consume (default TONGBAN_CELERY_QUEUE or 'tongban')."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True,
                                help="Log every task run (-v: start and end of each task, -vv: debug)."),
) -> None:
    """Run the background worker (timers, service tasks) until stopped: the database worker, or a Celery worker
    with ``--celery`` or when the Celery backend is configured."""
    from django.core.management import call_command
    from django_tasks import default_task_backend

    if celery or getattr(default_task_backend, "has_beat", False):
        _celery_worker(concurrency, beat, queue)
        return
    _worker_start_hooks()
    call_command(_database_worker(), interval=1.0, verbosity=verbose)


def _database_worker() -> BaseCommand:
    """django-tasks-db's ``db_worker``, quiet by default: at verbosity 0 only warnings and failures are logged
    (the stock command logs two lines for every task, the periodic tick included, or nothing at all)."""
    import logging

    from django_tasks_db.compat import TASKS_LOGGER
    from django_tasks_db.management.commands.db_worker import Command

    class QuietWorker(Command):
        def configure_logging(self, verbosity: int) -> None:
            super().configure_logging(verbosity)
            if verbosity == 0:
                for name in (TASKS_LOGGER, "django_tasks_db"):
                    logging.getLogger(name).setLevel(logging.WARNING)

    return QuietWorker()


def _celery_worker(concurrency: int, beat: bool, queue: str) -> None:
    from django.conf import settings
    from django_tasks import default_task_backend

    from tongban import celery_app

    if not getattr(default_task_backend, "has_beat", False):
        typer.echo("TASKS backend is not Celery: set TONGBAN_TASKS_BACKEND="
                   "tongban.workflow.celery_backend.CeleryBackend", err=True)
        raise typer.Exit(2)
    queue = queue or default_task_backend.default_celery_queue()
    argv = ["worker", f"--queues={queue}", "--loglevel=INFO", f"--hostname=tongban-{os.getpid()}@%h"]
    argv += ["--pool=solo"] if concurrency <= 1 else ["--pool=threads", f"--concurrency={concurrency}"]
    if beat:
        celery_app.configure_beat(celery_app.app, queue)
        argv += ["--beat", f"--schedule={settings.TONGBAN_HOME / 'celerybeat-schedule'}"]
    _worker_start_hooks()
    celery_app.app.worker_main(argv)


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    _migrate(quiet=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run a Django management command: ``tongban manage createsuperuser``."""
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tongban manage", *ctx.args])


def _register_app_commands() -> None:
    from tongban.apps_registry import context_modules

    for _, module in context_modules("cli"):
        module.register(app)


def main() -> None:
    setup_django()
    _register_app_commands()
    app()


if __name__ == "__main__":
    main()
