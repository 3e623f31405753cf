"""Databases for tests: created on the suite's Postgres, addressed by URL."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

from aido.core.config import Settings
from aido.db.migrate import upgrade_head

# Children first. DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE's new files
# cost ~0.2 s a test on a Postgres that fsyncs.
# signing_secret stays: running servers hold the secret they read from it.
TABLES = ("task", '"user"', "throttle")


def libpq(url: str) -> str:
    """A SQLAlchemy URL as libpq conninfo for psycopg.connect."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> str:
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


def migrate(url: str) -> None:
    upgrade_head(Settings(DATABASE_URL=url, _env_file=None))


def truncate_all(url: str) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("; ".join(f"DELETE FROM {table}" for table in TABLES))


def query(url: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        cursor = conn.execute(sql, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []
