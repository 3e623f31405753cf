"""Start-up waits for a database that comes up late, and gives up clearly on one that never does."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from aido.core.config import Settings
from aido.db.database import Database
from aido.db.startup import LOCALHOST_IN_CONTAINER, StartupError, wait_for_database
from aido.testing.ports import free_port
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


@pytest.mark.parametrize(
    "command",
    [None, [sys.executable, "-m", "aido"]],
    ids=["uvicorn aido.main:app", "python -m aido (migrates in a child)"],
)
def test_database_that_never_answers_stops_start_up_clearly(
    database_url: str, jwt_secret: str, log_dir: Path, command: list[str] | None
) -> None:
    target = make_url(database_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)  # never started
    env = base_env(
        DATABASE_URL=proxied(with_database(database_url, "aido_test"), proxy),
        JWT_SECRET=jwt_secret,
        DB_STARTUP_TIMEOUT="2",
    )
    started = time.monotonic()
    name = "never" if command is None else "never-serve"
    with run_server(env, log_dir / name, wait=False, command=command) as server:
        code = server.process.wait(timeout=30)
        log = server.log()
    assert code == 3
    assert time.monotonic() - started < 20
    assert "start-up failed: database at postgresql+psycopg://postgres:***@127.0.0.1" in log
    assert log.count("start-up failed") == 1, log
    assert "Traceback" not in log
    assert target.password not in log


def start_up_failure(url: str, *, in_container: bool) -> str:
    """The start-up error for `url`, waited for as `python -m aido` waits (briefly)."""
    settings = Settings(DATABASE_URL=url, DB_STARTUP_TIMEOUT=1, _env_file=None)

    async def wait() -> None:
        db = Database(settings)
        await db.open()
        try:
            await wait_for_database(db, settings, in_container=in_container)
        finally:
            await db.close()

    with pytest.raises(StartupError) as failure:
        asyncio.run(wait())
    return str(failure.value)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_a_refused_localhost_url_inside_a_container_says_localhost_is_the_container(
    host: str,
) -> None:
    refusing = f"postgresql://aido:aido@{host}:{free_port()}/aido"  # nothing listens there
    message = start_up_failure(refusing, in_container=True)
    assert message.startswith(f"database at postgresql+psycopg://aido:***@{host}:")
    assert LOCALHOST_IN_CONTAINER in message
    assert "connection refused — this process runs in a container, where `localhost`" in message


def test_a_refused_localhost_url_outside_a_container_gets_no_container_hint() -> None:
    message = start_up_failure(
        f"postgresql://aido:aido@127.0.0.1:{free_port()}/aido", in_container=False
    )
    assert "did not answer within" in message and "container" not in message
