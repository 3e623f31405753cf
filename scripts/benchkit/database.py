"""A fresh database for one bench run, on the Postgres the tests use, migrated to head."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from aido.core.config import Settings
from aido.db.migrate import upgrade_head


def conninfo(url: str) -> str:
    """psycopg's own form of a SQLAlchemy postgresql+psycopg URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def bench_database(admin_url: str) -> Iterator[str]:
    """Create `aido_bench_<random>`, migrate it, yield its URL, drop it afterwards."""
    name = f"aido_bench_{secrets.token_hex(4)}"
    with psycopg.connect(conninfo(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_head(Settings(DATABASE_URL=url, _env_file=None))
        yield url
    finally:
        with psycopg.connect(conninfo(admin_url), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def server_version(url: str) -> str:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"
