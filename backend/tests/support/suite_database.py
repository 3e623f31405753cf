"""The suite's Postgres: started once a run, right after collection when a collected test needs
it (the `[test-db]` progress then reaches the terminal, not pytest's capture), and named in the
run's output: which source (aido.testing.postgres), where, and the server's version."""

from __future__ import annotations

import contextlib
import os

import pytest

from aido.testing.postgres import (
    PostgresSource,
    docker_engine,
    provide_described_postgres,
    server_version,
    wait_until_ready,
)

# The fixture every test that uses the suite's database depends on (see tests/conftest.py).
NEEDED_BY = "pg_admin_url"


class SuiteDatabase:
    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self.url: str | None = None
        self.source: PostgresSource | None = None
        self.version: str | None = None

    def start(self) -> str:
        if self.url is None:
            url, source = self._stack.enter_context(provide_described_postgres())
            wait_until_ready(url)
            self.url, self.source, self.version = url, source, server_version(url)
        return self.url

    def close(self) -> None:
        self._stack.close()

    def used(self) -> str | None:
        """One line: the source, where it is, and the server's version; None if not started."""
        if self.source is None:
            return None
        return f"database: {self.source}, PostgreSQL {self.version}"

    def fallback(self) -> str | None:
        if self.source is None or self.source.fallback is None:
            return None
        return f"!!! database: FELL BACK to a {self.source.kind}: {self.source.fallback} !!!"


def planned_source() -> str:
    """The source provide_described_postgres will try, said before anything is started."""
    forced = os.environ.get("AIDO_TEST_DB", "")
    if os.environ.get("TEST_DATABASE_URL") and not forced:
        return "TEST_DATABASE_URL"
    if forced == "cluster":
        return "a self-started cluster (AIDO_TEST_DB=cluster)"
    engine = docker_engine()
    if forced == "container" or engine:
        return f"testcontainers on {engine or 'a Docker engine (AIDO_TEST_DB=container)'}"
    return "a self-started cluster (no Docker engine answers)"


def needed_by(items: list[pytest.Item]) -> bool:
    return any(NEEDED_BY in getattr(item, "fixturenames", ()) for item in items)
