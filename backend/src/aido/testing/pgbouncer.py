"""A real PgBouncer in transaction mode in front of a Postgres, for tests and benchmarks.

Debian's `pgbouncer` binary (installed with apt-get when missing and running as root), on a
free loopback port, with a generated config that sends every database name to the target
Postgres: the pooler Neon puts in front of its computes, without its prepared-statement
tracking (Debian bookworm ships 1.18; tracking came in 1.21), which is the harder case.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from aido.testing.ports import free_port

START_TIMEOUT = 15.0
# How long a client waits for a server connection before PgBouncer answers query_wait_timeout
# (its default, 120 s, is Neon's too; tests want to see it sooner).
DEFAULT_SETTINGS = {
    "pool_mode": "transaction",
    "max_client_conn": "500",
    "default_pool_size": "20",
    # After a failed login to Postgres (a restart), try again after 1 s, not 15 s.
    "server_login_retry": "1",
    "server_connect_timeout": "5",
    "query_wait_timeout": "30",
}


class PgBouncerUnavailable(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"[pgbouncer] {message}", file=sys.stderr, flush=True)


def find_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(p).exists()), None
    )


def ensure_binary() -> str:
    """Debian's pgbouncer, installed with apt-get when missing (as the bench does for wrk)."""
    found = find_binary()
    if found:
        return found
    if os.geteuid() != 0:
        raise PgBouncerUnavailable(
            "pgbouncer is not installed; install Debian's package: apt-get install -y pgbouncer"
        )
    say("pgbouncer is missing: apt-get install -y pgbouncer…")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "pgbouncer"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, capture_output=True, env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=True)
        subprocess.run(install, capture_output=True, env=env, check=True)
    found = find_binary()
    if not found:
        raise PgBouncerUnavailable("apt-get could not install pgbouncer")
    return found


def version(binary: str | None = None) -> str:
    out = subprocess.run([binary or ensure_binary(), "--version"], capture_output=True, text=True)
    return out.stdout.splitlines()[0].strip() if out.stdout else "PgBouncer ?"


def _quote(value: str) -> str:
    # userlist.txt: double-quoted, a double quote doubled.
    return '"' + value.replace('"', '""') + '"'


class PgBouncer:
    """One pgbouncer process; `stop()`/`start()` restart it on the same port."""

    def __init__(self, target_url: str, *, settings: dict[str, str] | None = None) -> None:
        target = make_url(target_url)
        if not target.username or target.password is None:
            raise ValueError("the target URL needs a user and a password (PgBouncer logs in)")
        self.target_url = target_url
        self.binary = ensure_binary()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="aido-pgbouncer-"))
        self.log_path = self.root / "pgbouncer.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self._owner = _unprivileged_owner()
        self._write_config(target.host or "127.0.0.1", int(target.port or 5432),
                           target.username, target.password)  # fmt: skip

    # configuration -------------------------------------------------------------------------
    def _write_config(self, host: str, port: int, user: str, password: str) -> None:
        userlist = self.root / "userlist.txt"
        userlist.write_text(f"{_quote(user)} {_quote(password)}\n")
        lines = [
            "[databases]",
            # Every database name goes to the same server, under the name the client asked for.
            f"* = host={host} port={port}",
            "",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = scram-sha-256",
            f"auth_file = {userlist}",
            f"admin_users = {user}",
            "ignore_startup_parameters = extra_float_digits",
            *(f"{key} = {value}" for key, value in self.settings.items()),
        ]
        (self.root / "pgbouncer.ini").write_text("\n".join(lines) + "\n")
        userlist.chmod(0o600)
        if self._owner:
            for path in (self.root, userlist, self.root / "pgbouncer.ini"):
                os.chown(path, self._owner.pw_uid, self._owner.pw_gid)

    def url(self, database_url: str) -> str:
        """`database_url` (a URL of the target server) through this pooler."""
        return (
            make_url(database_url)
            .set(host="127.0.0.1", port=self.port)
            .render_as_string(hide_password=False)
        )

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> PgBouncer:
        if self.process is not None and self.process.poll() is None:
            return self
        uid, gid = (self._owner.pw_uid, self._owner.pw_gid) if self._owner else (None, None)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, str(self.root / "pgbouncer.ini")],
                stdout=log, stderr=subprocess.STDOUT, user=uid, group=gid,
                start_new_session=True,
            )  # fmt: skip
        self._wait_listening()
        return self

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PgBouncerUnavailable(
                    f"pgbouncer exited with {self.process.returncode}: {self.log_tail()}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.05)
        raise PgBouncerUnavailable(f"pgbouncer not listening after {START_TIMEOUT}s")

    def stop(self, *, sig: int = signal.SIGTERM) -> None:
        """SIGTERM is PgBouncer's immediate shutdown: every client and server connection is
        closed at once (SIGKILL: a crash, the same to the peers)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self, *, down_for: float = 0.0) -> None:
        self.stop()
        if down_for:
            time.sleep(down_for)
        self.start()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.poll() is None else None

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unprivileged_owner() -> pwd.struct_passwd | None:
    """PgBouncer refuses to run as root: run it as 'postgres' (or 'nobody')."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PgBouncerUnavailable("running as root and there is no 'postgres' or 'nobody' user")


@contextlib.contextmanager
def run_pgbouncer(
    target_url: str, *, settings: dict[str, str] | None = None
) -> Iterator[PgBouncer]:
    """A started PgBouncer in front of `target_url`'s server, removed afterwards."""
    bouncer = PgBouncer(target_url, settings=settings)
    say(f"starting {version(bouncer.binary)} (transaction mode) on 127.0.0.1:{bouncer.port}…")
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.close()
