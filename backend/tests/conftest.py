"""The suite's real Postgres, a migrated database, and the backend as a real server process."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aido.testing.postgres import NoDatabaseError, provide_postgres, wait_until_ready
from tests.support.database import create_database, migrate, truncate_all
from tests.support.response_models import ResponseModelCheck
from tests.support.server import Server, base_env, run_server


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A superuser URL of the suite's Postgres (see aido.testing.postgres for the sources)."""
    try:
        with provide_postgres() as url:
            wait_until_ready(url)
            yield url
    except NoDatabaseError as exc:
        pytest.exit(str(exc), returncode=3)


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str) -> str:
    url = create_database(pg_admin_url, "aido_test")
    migrate(url)
    return url


@pytest.fixture(scope="session")
def jwt_secret() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def server_env(database_url: str, jwt_secret: str) -> dict[str, str]:
    # Every test signs its accounts up from 127.0.0.1, some (the fuzzer) more than the
    # default SIGNUP_MAX_PER_CLIENT of 20; the limit itself is tested with its own servers.
    return base_env(
        DATABASE_URL=database_url, JWT_SECRET=jwt_secret, LOG_LEVEL="INFO",
        SIGNUP_MAX_PER_CLIENT="500",
    )  # fmt: skip


@pytest.fixture(scope="session")
def live_server(server_env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    with run_server(server_env, log_dir) as server:
        yield server


@pytest.fixture(scope="session")
def response_models() -> ResponseModelCheck:
    return ResponseModelCheck.for_the_app()


@pytest.fixture
def client(live_server: Server, response_models: ResponseModelCheck) -> Iterator[httpx.Client]:
    """Every answer is checked against its route's response_model (tests/support)."""
    hooks = {"response": [response_models]}
    with httpx.Client(base_url=live_server.url, timeout=30, event_hooks=hooks) as c:
        yield c


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest) -> None:
    """Every test that touches the suite's database starts from empty tables."""
    if "database_url" in request.fixturenames:
        truncate_all(request.getfixturevalue("database_url"))
