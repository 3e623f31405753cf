"""Every response a security test receives is checked for secrets as it arrives."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.security.leaks import assert_no_leaks, secrets_of_run
from tests.support.server import Server


@pytest.fixture(scope="session")
def run_secrets(pg_admin_url: str, jwt_secret: str) -> dict[str, str]:
    return secrets_of_run(pg_admin_url=pg_admin_url, jwt_secret=jwt_secret)


@pytest.fixture
def client(live_server: Server, run_secrets: dict[str, str]) -> Iterator[httpx.Client]:
    def check(response: httpx.Response) -> None:
        response.read()
        where = f"the response to {response.request.method} {response.request.url.path}"
        assert_no_leaks(where, [response.text, str(response.headers)], run_secrets)

    with httpx.Client(base_url=live_server.url, timeout=30, event_hooks={"response": [check]}) as c:
        yield c
