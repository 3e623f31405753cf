"""The suite's real Postgres, a migrated database, and the backend as a real server process."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from aido.testing.postgres import NoDatabaseError
from tests.support.database import create_database, migrate, truncate_all
from tests.support.in_process import serve_in_process, settings_from
from tests.support.response_models import ResponseModelCheck
from tests.support.server import Server, base_env, run_server
from tests.support.suite_database import SuiteDatabase, needed_by, planned_source

SUITE_DATABASE = pytest.StashKey[SuiteDatabase]()
ResponseCheck = Callable[[httpx.Response], None]


def pytest_configure(config: pytest.Config) -> None:
    config.stash[SUITE_DATABASE] = SuiteDatabase()


def pytest_unconfigure(config: pytest.Config) -> None:
    if SUITE_DATABASE in config.stash:
        config.stash[SUITE_DATABASE].close()


def pytest_report_header(config: pytest.Config) -> str:
    return f"database source: {planned_source()}"


def start_suite_database(config: pytest.Config) -> str:
    try:
        return config.stash[SUITE_DATABASE].start()
    except NoDatabaseError as exc:
        pytest.exit(str(exc), returncode=3)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # Before the terminal reporter's: it prints pytest_report_collectionfinish's lines.
    if needed_by(session.items) and not session.config.option.collectonly:
        start_suite_database(session.config)


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    # Printed under "collected N items", with -q too (the header is not, with -q).
    database = config.stash[SUITE_DATABASE]
    return [line for line in (database.used(), database.fallback()) if line]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    database = terminalreporter.config.stash[SUITE_DATABASE]
    if database.used():
        terminalreporter.write_line(str(database.used()))
    if database.fallback():
        terminalreporter.write_line(str(database.fallback()), red=True, bold=True)


@pytest.fixture(scope="session")
def pg_admin_url(pytestconfig: pytest.Config) -> str:
    """A superuser URL of the suite's Postgres (see aido.testing.postgres for the sources),
    started right after collection (tests/support/suite_database.py)."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    # Started here only when a test asks for it by name at run time: show the progress anyway.
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        return start_suite_database(pytestconfig)


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
def in_process_app(server_env: dict[str, str]) -> Iterator[httpx.Client]:
    """The app in this process, with the settings of live_server (tests/support/in_process.py)."""
    with serve_in_process(settings_from(server_env)) as app_client:
        yield app_client


@pytest.fixture(scope="session")
def response_models() -> ResponseModelCheck:
    return ResponseModelCheck.for_the_app()


@pytest.fixture
def response_checks(response_models: ResponseModelCheck) -> list[ResponseCheck]:
    """Called with every answer `client` receives: each is checked against its route's
    response_model (tests/support/response_models.py); a folder's conftest adds its own."""
    return [response_models]


@pytest.fixture
def client(
    request: pytest.FixtureRequest, database_url: str, response_checks: list[ResponseCheck]
) -> Iterator[httpx.Client]:
    """The API: the suite's server process (live_server), or, for a test marked `in_process`,
    the app in this process. Same settings, same database, same checks of every answer."""
    hooks: dict[str, list[ResponseCheck]] = {"response": response_checks}
    if request.node.get_closest_marker("in_process") is None:
        server: Server = request.getfixturevalue("live_server")
        with httpx.Client(base_url=server.url, timeout=30, event_hooks=hooks) as c:
            yield c
        return
    app_client: httpx.Client = request.getfixturevalue("in_process_app")
    app_client.cookies.clear()  # one client for the session: no test sees another's cookies
    app_client.event_hooks = hooks  # type: ignore[assignment]
    try:
        yield app_client
    finally:
        app_client.event_hooks = {}


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest) -> None:
    """Every test that touches the suite's database starts from empty tables."""
    if "database_url" in request.fixturenames:
        truncate_all(request.getfixturevalue("database_url"))
