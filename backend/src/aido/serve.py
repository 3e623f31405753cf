"""`aido-serve` / `python -m aido`: the production entry point (the image's command).

    python -m aido            wait for the database, migrate, then serve (WEB_CONCURRENCY workers)
    python -m aido migrate    wait for the database and migrate, then exit (Kubernetes init)
    python -m aido check      validate the settings and exit (compose's `config-check`)

Exit codes: 0 done; 2 a configuration error, in one line naming the variable (never its
value); 3 the database did not answer within DB_STARTUP_TIMEOUT, cannot be used, or a
migration failed, in one line. An orchestrator restarts on 3 (the database may come back),
not on 2 (nothing changes until the settings do): README "Operations".

Serving: this supervisor validates the settings, brings the schema to head once in a child
process (`python -m aido migrate`: its exit code, 2 or 3, is the supervisor's), then starts the
workers, which import the app by its factory string (`worker_app`) and whose start-up only
opens their pools; the migration's one log line says what was applied. The supervisor itself
never imports FastAPI, SQLAlchemy or the app: it stays small beside its workers
(bench/README.md, "Issue 15: the supervisor process"). The supervisor and the workers log
through the same dictConfig (uvicorn's `log_config`); uvicorn's access log is off, the app
writes its own. With METRICS_TOKEN set and several workers, the workers share a metrics
directory made fresh for this start and removed at exit (core/metrics.py). uvicorn runs with
the connection bounds of `aido.http_guard`; on SIGTERM it stops accepting at once (new
connections are refused), lets requests in flight finish within HTTP_DRAIN_TIMEOUT, then exits.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn
from prometheus_client.multiprocess import mark_process_dead
from uvicorn.supervisors.multiprocess import Multiprocess

from aido.core.config import ConfigError, Settings, get_settings, requested_log_format
from aido.core.logging import configure_logging, fatal_line, logging_config

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("aido.serve")

EXIT_CONFIG_ERROR, EXIT_STARTUP_FAILED = 2, 3
# prometheus_client's own variable, not a setting: prometheus_client reads it itself, in each
# worker, when it is imported; the supervisor sets it for the workers it spawns.
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# The workers' app, imported by uvicorn in each worker (never in the supervisor).
WORKER_APP = "aido.serve:worker_app"


def migrate_here() -> None:
    """Wait for the database and migrate, in this process (`python -m aido migrate`)."""
    import asyncio

    from aido.db.database import Database
    from aido.db.startup import StartupError, prepare_database

    async def prepare() -> None:
        settings = get_settings()
        db = Database(settings, application_name="aido-migrate")
        await db.open()
        try:
            await prepare_database(db, settings)
        finally:
            await db.close()

    try:
        asyncio.run(prepare())
    except StartupError as exc:
        log.critical("start-up failed: %s", exc)
        raise SystemExit(EXIT_STARTUP_FAILED) from None


def migrate_in_child() -> None:
    """`python -m aido migrate` as a child: SQLAlchemy, Alembic and the models are loaded
    there and freed with it. Its lines go to our stderr; its exit code is ours. SIGTERM or
    SIGINT while it runs is passed on to it."""
    child = subprocess.Popen([sys.executable, "-m", "aido", "migrate"])

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code < 0:  # ended by a signal (ours, passed on): exit as a shell reports it
        raise SystemExit(128 - code)
    if code != 0:
        raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aido", description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", default="serve",
                        choices=("serve", "migrate", "check"))  # fmt: skip
    command = parser.parse_args(sys.argv[1:] if argv is None else argv).command
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(fatal_line(str(exc), requested_log_format()), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_CONFIG_ERROR) from None
    configure_logging(settings.LOG_LEVEL, settings.LOG_FORMAT)
    if command == "check":
        log.info(
            "configuration is valid: database %s, LOG_FORMAT=%s, metrics %s",
            settings.redacted_database_url, settings.LOG_FORMAT,
            "on" if settings.METRICS_TOKEN else "off",
        )  # fmt: skip
        return
    if command == "migrate":
        migrate_here()
        return
    migrate_in_child()
    workers = settings.workers
    with metrics_directory(enabled=settings.METRICS_TOKEN is not None and workers > 1) as path:
        config = server_config(settings, workers)
        if workers > 1:
            DrainingMultiprocess(config, sockets=[config.bind_socket()], metrics_dir=path).run()
        else:
            # One process: uvicorn's own SIGTERM handling closes the listener first.
            uvicorn.Server(config).run()


def worker_app() -> FastAPI:
    """The app of `python -m aido`'s workers (a uvicorn factory, imported in each worker):
    built from the settings the supervisor validated, on the schema it had migrated."""
    from aido.main import create_app

    return create_app(schema_ready=True)


@contextlib.contextmanager
def metrics_directory(*, enabled: bool) -> Iterator[str | None]:
    """A fresh directory for the workers' metric files, named where prometheus_client looks
    for it: values of an earlier start (another pid's files) must not be added in."""
    if not enabled:
        yield None
        return
    path = tempfile.mkdtemp(prefix="aido-metrics-")
    os.environ[METRICS_DIR_VARIABLE] = path  # inherited by the workers uvicorn spawns
    try:
        yield path
    finally:
        os.environ.pop(METRICS_DIR_VARIABLE, None)
        shutil.rmtree(path, ignore_errors=True)


def server_config(settings: Settings, workers: int) -> uvicorn.Config:
    return uvicorn.Config(
        WORKER_APP,
        factory=True,
        host=settings.API_HOST,
        port=settings.API_PORT,
        workers=workers,
        http="aido.http_guard:GuardedHttpToolsProtocol",
        timeout_keep_alive=settings.HTTP_KEEPALIVE_TIMEOUT,
        timeout_graceful_shutdown=settings.HTTP_DRAIN_TIMEOUT,
        proxy_headers=True,
        forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS,
        # Applied by uvicorn here and in each worker: one format for every process's lines.
        log_config=logging_config(settings.LOG_LEVEL, settings.LOG_FORMAT),
        log_level=settings.LOG_LEVEL.lower(),
        access_log=False,  # the app's own access log (ACCESS_LOG) has the route template
        # Names the server software and version to every client, for nothing.
        server_header=False,
    )


class DrainingMultiprocess(Multiprocess):
    """uvicorn's supervisor, but the parent closes its listening socket on SIGTERM/SIGINT,
    and a dead worker's live gauges leave the metrics.

    uvicorn's parent keeps its copy open until the workers have drained and it exits: the
    kernel then goes on completing connections nobody will accept, and resets them all when
    the parent exits (the client sees a hang, then a reset). With the parent's copy closed,
    and each worker closing its own as it starts draining, a new connection is refused at
    once, which clients and load balancers handle as "try elsewhere".
    """

    def __init__(self, config: uvicorn.Config, sockets: list[object], metrics_dir: str | None):
        super().__init__(config, sockets)  # type: ignore[arg-type]
        self.metrics_dir = metrics_dir

    def _stop_listening(self) -> None:
        for sock in self.sockets:
            sock.close()

    def handle_term(self) -> None:
        self._stop_listening()
        super().handle_term()

    def handle_int(self) -> None:
        self._stop_listening()
        super().handle_int()

    # Each way a worker leaves: it died (and was replaced), SIGHUP (all replaced), SIGTTOU.
    def keep_subprocess_alive(self) -> None:
        with self._forgetting_gone_workers():
            super().keep_subprocess_alive()

    def restart_all(self) -> None:
        with self._forgetting_gone_workers():
            super().restart_all()

    def handle_ttou(self) -> None:
        with self._forgetting_gone_workers():
            super().handle_ttou()

    @contextlib.contextmanager
    def _forgetting_gone_workers(self) -> Iterator[None]:
        before = {p.pid for p in self.processes}
        yield
        if self.metrics_dir is None:
            return
        for pid in before - {p.pid for p in self.processes}:
            if pid is not None:
                # Its counters stay in the sums; its pool gauges (livesum) must not.
                mark_process_dead(pid, self.metrics_dir)  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
