"""Every response a security test receives is checked for secrets as it arrives."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.support.leaks import assert_no_leaks, secrets_of_run


@pytest.fixture(scope="session")
def run_secrets(pg_admin_url: str, jwt_secret: str) -> dict[str, str]:
    return secrets_of_run(pg_admin_url=pg_admin_url, jwt_secret=jwt_secret)


@pytest.fixture
def response_checks(
    response_checks: list[Callable[[httpx.Response], None]], run_secrets: dict[str, str]
) -> list[Callable[[httpx.Response], None]]:
    """The suite's checks of every answer (tests/conftest.py), and the run's secrets."""

    def check(response: httpx.Response) -> None:
        response.read()
        where = f"the response to {response.request.method} {response.request.url.path}"
        assert_no_leaks(where, [response.text, str(response.headers)], run_secrets)

    return [*response_checks, check]
