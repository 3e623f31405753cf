"""Start-up waits for a database that comes up late, and gives up clearly on one that never does."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support.database import with_database
from tests.support.server import base_env, run_server, wait_live
from tests.support.tcp_proxy import TcpProxy


def proxied(database_url: str, proxy: TcpProxy) -> str:
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


def test_database_that_comes_up_late(database_url: str, jwt_secret: str, log_dir: Path) -> None:
    target = make_url(database_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    env = base_env(DATABASE_URL=proxied(database_url, proxy), JWT_SECRET=jwt_secret)
    try:
        with run_server(env, log_dir / "late", wait=False) as server:
            deadline = time.monotonic() + 30
            while server.log().count("waiting for the database") < 2:
                assert server.process.poll() is None, server.log()
                assert time.monotonic() < deadline, "start-up never reported waiting"
                time.sleep(0.1)
            proxy.start()  # the database "comes up" while the server is waiting
            wait_live(server.url, server.process, server.log_path, timeout=45)
            log = server.log()
            assert "database answered after" in log
            assert "***@127.0.0.1" in log
            assert target.password not in log
    finally:
        proxy.close()


def test_database_that_never_answers_stops_start_up_clearly(
    database_url: str, jwt_secret: str, log_dir: Path
) -> None:
    target = make_url(database_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)  # never started
    env = base_env(
        DATABASE_URL=proxied(with_database(database_url, "aido_test"), proxy),
        JWT_SECRET=jwt_secret,
        DB_STARTUP_TIMEOUT="2",
    )
    started = time.monotonic()
    with run_server(env, log_dir / "never", wait=False) as server:
        code = server.process.wait(timeout=30)
        log = server.log()
    assert code == 3
    assert time.monotonic() - started < 20
    assert "start-up failed: database at postgresql+psycopg://postgres:***@127.0.0.1" in log
    assert "Traceback" not in log
    assert target.password not in log
