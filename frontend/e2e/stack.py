"""The real stack for the browser tests, then Playwright against it; everything removed after.

    scripts/test-e2e [playwright args]        # e.g. scripts/test-e2e -g "load more"

1. Postgres from aido.testing.postgres.provide_postgres (as the backend's tests get it), a fresh
   database `aido_e2e`, migrated to head;
2. a TCP proxy between the backend and Postgres (backend/tests/support/tcp_proxy.py), so the
   tests can take the database away for real and see the API answer 503 + Retry-After;
3. the backend, `python -m aido`, on a free port, with FRONTEND_URL set to the UI's origin and a
   low log-in limit (LOGIN_MAX_FAILURES=3) so that 429 comes from the real limiter quickly;
4. the built UI (frontend/dist) under nginx with the image's own config
   (frontend/docker/render-config.sh), on a free port;
5. a control endpoint for the tests: POST /database/down and /database/up;
6. `npx playwright test` with E2E_UI_URL, E2E_API_URL and E2E_CONTROL_URL set.

The exit code is Playwright's. Progress goes to stderr.
"""

# Runs nginx, npx and the UI's own config script with fixed argument lists, and talks HTTP to
# 127.0.0.1 only:
# ruff: noqa: S603, S607, S310

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy.engine import make_url

FRONTEND = Path(__file__).resolve().parent.parent
ROOT = FRONTEND.parent
sys.path.insert(0, str(ROOT / "backend"))  # the backend's test support: one copy of each helper

from aido.testing.ports import free_port  # noqa: E402
from aido.testing.postgres import provide_postgres, wait_until_ready  # noqa: E402
from tests.support.database import create_database, migrate  # noqa: E402
from tests.support.server import base_env, run_server  # noqa: E402
from tests.support.tcp_proxy import TcpProxy  # noqa: E402

STARTED = time.monotonic()
LOGIN_MAX_FAILURES = 3


def say(message: str) -> None:
    print(f"[e2e {time.monotonic() - STARTED:5.1f}s] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def nginx_serving(dist: Path, api_url: str, workdir: Path, port: int) -> Iterator[str]:
    """The built UI under nginx on `port`, configured by the image's own start-up script."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("e2e: nginx is not installed (Debian: apt-get install -y nginx)")
    runtime = workdir / "ui"
    env = {
        **os.environ,
        "API_URL": api_url,
        "UI_LISTEN": f"127.0.0.1:{port}",
        "UI_ROOT": str(dist),
        "UI_RUNTIME_DIR": str(runtime),
        "UI_ACCESS_LOG": "off",
    }
    subprocess.run([str(FRONTEND / "docker" / "render-config.sh")], env=env, check=True)
    log = (workdir / "nginx.log").open("wb")
    process = subprocess.Popen(
        [nginx, "-e", "stderr", "-c", str(runtime / "nginx.conf"), "-g", "daemon off;"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"e2e: nginx did not start: {(workdir / 'nginx.log').read_text()[-2000:]}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@contextlib.contextmanager
def control_server(proxy: TcpProxy) -> Iterator[str]:
    """POST /database/down cuts and refuses every connection to Postgres; /database/up restores."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path == "/database/down":
                proxy.refuse()
                proxy.drop_all()
            elif self.path == "/database/up":
                proxy.restore()
            else:
                self.send_error(404)
                return
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def main(playwright_args: list[str]) -> int:
    dist = FRONTEND / "dist"
    if not (dist / "index.html").exists():
        raise SystemExit("e2e: frontend/dist is missing: run `npm run build` in frontend/ first")
    workdir = Path(tempfile.mkdtemp(prefix="aido-e2e-"))
    workdir.chmod(0o755)  # nginx's workers run as nobody when this runs as root (CI)
    keep = False
    try:
        with contextlib.ExitStack() as stack:
            admin_url = stack.enter_context(provide_postgres())
            wait_until_ready(admin_url)
            database_url = create_database(admin_url, "aido_e2e")
            migrate(database_url)
            say("database aido_e2e migrated")

            target = make_url(database_url)
            proxy = stack.enter_context(TcpProxy(str(target.host), int(target.port or 5432)))
            proxied_url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False
            )

            # The UI's port first: the backend's one CORS origin must name it.
            ui_port = free_port()
            ui_origin = f"http://127.0.0.1:{ui_port}"
            env = base_env(
                DATABASE_URL=proxied_url,
                JWT_SECRET=secrets.token_urlsafe(48),
                API_HOST="127.0.0.1",
                API_PORT=str(free_port()),
                FRONTEND_URL=ui_origin,
                WEB_CONCURRENCY="1",
                LOG_LEVEL="WARNING",
                ACCESS_LOG="false",
                LOGIN_MAX_FAILURES=str(LOGIN_MAX_FAILURES),
                # An outage turns into 503 within seconds, with Retry-After: 2.
                DB_CONNECT_TIMEOUT="4",
                DB_RETRY_MAX_SECONDS="3",
                DB_POOL_TIMEOUT="5",
            )
            server = stack.enter_context(
                run_server(env, workdir, command=[sys.executable, "-m", "aido"])
            )
            say(f"backend (python -m aido) on {server.url}")
            ui_url = stack.enter_context(nginx_serving(dist, server.url, workdir, ui_port))
            say(f"UI (nginx) on {ui_url}")
            control_url = stack.enter_context(control_server(proxy))

            say("running the browser tests (headless Chromium)")
            done = subprocess.run(
                ["npx", "playwright", "test", *playwright_args],
                cwd=FRONTEND,
                env={
                    **os.environ,
                    "E2E_UI_URL": ui_url,
                    "E2E_API_URL": server.url,
                    "E2E_CONTROL_URL": control_url,
                    "E2E_LOGIN_MAX_FAILURES": str(LOGIN_MAX_FAILURES),
                },
                check=False,
            )
            if done.returncode != 0:
                keep = True
                say(f"backend log: {server.log_path}")
            return done.returncode
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
