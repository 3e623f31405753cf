"""A real Postgres for tests and benchmarks, from the first source that answers:

1. TEST_DATABASE_URL, when set;
2. a testcontainers `postgres:17` container, when a Docker engine answers;
3. a throwaway cluster started here with initdb/pg_ctl in a temp dir on a free port.

AIDO_TEST_DB=container|cluster forces one source (a test proves the cluster path with no
Docker engine). Progress goes to stderr: starting a database can take seconds.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.engine import make_url as make_sqlalchemy_url

from aido.core.db_url import normalize_database_url
from aido.testing.ports import free_port

CONTAINER_IMAGE = "postgres:17"


class NoDatabaseError(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"[test-db] {message}", file=sys.stderr, flush=True)


@dataclass
class PostgresSource:
    """Where provide_postgres found its database, said in the test run's output."""

    kind: str  # "TEST_DATABASE_URL", "testcontainers" or "self-started cluster"
    where: str  # the engine, the server binaries or host:port; never a credential
    # Why the source that should have been used was not, e.g. the container failed to start.
    fallback: str | None = None

    def __str__(self) -> str:
        return f"{self.kind} ({self.where})"


def docker_engine(timeout: float = 3.0) -> str | None:
    """The Docker engine that answers (its name, version and address), or None."""
    try:
        import docker  # testcontainers' dependency
    except ImportError:
        return None
    try:
        client = docker.from_env(timeout=int(timeout))
        try:
            version = client.version()
        finally:
            client.close()
    except Exception:
        return None
    names = [c.get("Name", "") for c in version.get("Components") or []]
    engine = next((n for n in names if "Engine" in n), "Docker Engine")
    address = os.environ.get("DOCKER_HOST") or "the default socket"
    return f"{engine} {version.get('Version', '?')} at {address}"


def docker_answers(timeout: float = 3.0) -> bool:
    return docker_engine(timeout) is not None


def server_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


# Ryuk, testcontainers' reaper, is an image no registry here serves, so it is disabled: a run
# killed before its clean-up leaves its container running, and the engine's port rules with
# it. Each container says which run started it; the next run removes those of runs now gone.
OWNER_LABEL = "aido.testing.owner"  # "<host>/<pid>/<the process's start time in ticks>"


def _started_at(pid: int) -> str:
    """The process's start time in clock ticks since boot (tells a reused pid apart), or ""
    where /proc does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]  # field 22; the name before ")" may hold spaces


def this_run() -> str:
    return f"{socket.gethostname()}/{os.getpid()}/{_started_at(os.getpid())}"


def run_is_gone(owner: str) -> bool:
    """Whether the run named by an OWNER_LABEL value has ended. A run on another host, or a
    label this code did not write, is never judged gone."""
    host, _, rest = owner.partition("/")
    pid_text, _, started = rest.partition("/")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if started:
        return _started_at(pid) != started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    return False


def remove_leftover_containers() -> None:
    """Remove the containers of earlier runs that ended without cleaning up (said on stderr).
    Best effort: a failure here is said and never stops the run."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        try:
            for container in client.containers.list(all=True, filters={"label": OWNER_LABEL}):
                owner = container.labels.get(OWNER_LABEL, "")
                if run_is_gone(owner):
                    say(f"removing container {container.short_id}, left by a test run that "
                        f"ended without cleaning up ({owner})")  # fmt: skip
                    container.remove(force=True, v=True)
        finally:
            client.close()
    except Exception as exc:
        say(f"could not look for containers left by earlier runs: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def container_postgres() -> Iterator[str]:
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # testcontainers < 4.14
        from testcontainers.postgres import PostgresContainer

    remove_leftover_containers()
    say(f"starting a {CONTAINER_IMAGE} container (testcontainers)…")
    password = secrets.token_urlsafe(16)
    container = PostgresContainer(
        CONTAINER_IMAGE, username="postgres", password=password, dbname="postgres", driver="psycopg"
    )
    # A host port of our choosing (see aido.testing.ports), and whose run this container is.
    container.with_bind_ports(5432, free_port())
    container.with_kwargs(labels={OWNER_LABEL: this_run()})
    container.start()
    try:
        say("container ready")
        yield container.get_connection_url()
    finally:
        container.stop()


class Cluster:
    """A throwaway PostgreSQL cluster (initdb in a temp dir, a free port) that a test can stop,
    start and restart: the database restarted behind a pooler, or down for a while."""

    def __init__(self, *, durable: bool = False) -> None:
        bindir = server_bindir()
        if bindir is None:
            raise NoDatabaseError(
                "no database for the tests: set TEST_DATABASE_URL, start a Docker engine, or "
                "install PostgreSQL server binaries (initdb, pg_ctl)"
            )
        self.bindir = bindir
        # initdb refuses to run as root: run the server as the 'postgres' (or 'nobody') user.
        owner = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                with contextlib.suppress(KeyError):
                    owner = pwd.getpwnam(name)
                    break
        self.root = Path(tempfile.mkdtemp(prefix="aido-pg-"))
        self.data, sock = self.root / "data", self.root / "sock"
        sock.mkdir()
        password = secrets.token_urlsafe(16)
        (self.root / "pw").write_text(password)
        if owner:
            for path in (self.root, sock, self.root / "pw"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.port = free_port()
        self._ids = (owner.pw_uid, owner.pw_gid) if owner else (None, None)
        say(f"starting a throwaway PostgreSQL cluster ({bindir}) on 127.0.0.1:{self.port}…")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={self.root / 'pw'}",
            "--no-sync",
        )  # fmt: skip
        options = [
            f"-p {self.port}", f"-k {sock}", "-c listen_addresses=127.0.0.1",
            "-c max_connections=200",
        ]  # fmt: skip
        if not durable:
            # Throwaway data: skip the flushes that make test runs slow.
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._options = " ".join(options)
        self.url = make_url(user="postgres", password=password, host="127.0.0.1", port=self.port)
        self.start()
        say("cluster ready")

    def _run(self, tool: str, *args: str, check: bool = True) -> int:
        uid, gid = self._ids
        done = subprocess.run(
            [str(self.bindir / tool), *args], check=check, capture_output=True, user=uid, group=gid
        )
        return done.returncode

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False) == 0

    def start_if_stopped(self) -> None:
        if not self.running():
            self.start()

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "-o", self._options, "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`fast` aborts open transactions and disconnects every client (SQLSTATE 57P01);
        `immediate` is a crash (recovery at the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def cluster_postgres(*, durable: bool = False) -> Iterator[str]:
    cluster = Cluster(durable=durable)
    try:
        yield cluster.url
    finally:
        cluster.close()


@contextlib.contextmanager
def provide_postgres(*, durable: bool = False) -> Iterator[str]:
    """Yield a superuser URL (postgresql+psycopg://…) of a running Postgres."""
    with provide_described_postgres(durable=durable) as (url, _source):
        yield url


@contextlib.contextmanager
def provide_described_postgres(*, durable: bool = False) -> Iterator[tuple[str, PostgresSource]]:
    """provide_postgres, with where the database came from (for the test run's header)."""
    forced = os.environ.get("AIDO_TEST_DB", "")
    url = os.environ.get("TEST_DATABASE_URL")
    if url and not forced:
        say("using TEST_DATABASE_URL")
        normalized = normalize_database_url(url).url
        yield normalized, PostgresSource("TEST_DATABASE_URL", address_of(normalized))
        return
    fallback = None
    engine = docker_engine() if forced in ("", "container") else None
    if forced == "container" or (not forced and engine):
        try:
            stack = contextlib.ExitStack()
            container_url = stack.enter_context(container_postgres())
        except Exception as exc:
            if forced:
                raise
            # Loud, not silent: the run goes on, but on the self-started cluster.
            fallback = (f"a Docker engine answers but the container failed: "
                        f"{type(exc).__name__}: {str(exc)[:200]}")  # fmt: skip
            say(f"!!! {fallback}; falling back to a self-started cluster !!!")
        else:
            where = f"{CONTAINER_IMAGE} on {engine or 'a Docker engine'}"
            with stack:
                yield container_url, PostgresSource("testcontainers", where)
            return
    if forced not in ("", "cluster"):
        raise NoDatabaseError(f"AIDO_TEST_DB={forced!r}: expected 'container' or 'cluster'")
    cluster = Cluster(durable=durable)
    try:
        where = f"{cluster.bindir} on 127.0.0.1:{cluster.port}"
        yield cluster.url, PostgresSource("self-started cluster", where, fallback)
    finally:
        cluster.close()


def address_of(url: str) -> str:
    parsed = make_sqlalchemy_url(url)
    return f"{parsed.host or 'local socket'}:{parsed.port or 5432}/{parsed.database or ''}"


def server_version(url: str) -> str:
    """The server's own version string, e.g. `15.14 (Debian 15.14-0+deb12u1)`."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, connect_timeout=10) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def make_url(*, user: str, password: str, host: str, port: int, database: str = "postgres") -> str:
    # Assembled from parts: credentials are never spelled inside a URL literal in the source.
    return URL.create(
        "postgresql+psycopg",
        username=user,
        password=password,
        host=host,
        port=port,
        database=database,
    ).render_as_string(hide_password=False)


def wait_until_ready(url: str, *, timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    while True:
        try:
            with psycopg.connect(conninfo, connect_timeout=3):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
