"""The Postgres behind the Neon emulator: roles and databases standing in for Neon projects."""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql


class PgCluster:
    """DDL on the suite's Postgres through its superuser URL; each call its own connection."""

    def __init__(self, admin_url: str) -> None:
        self.conninfo = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", admin_url)
        parts = urlsplit(self.conninfo)
        self.port = parts.port or 5432
        self.hostaddr = socket.gethostbyname(parts.hostname or "127.0.0.1")
        if not ipaddress.ip_address(self.hostaddr).is_loopback:
            raise ValueError("the emulator only fronts a Postgres on a loopback address")

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10)

    def ssl_on(self) -> bool:
        with self._connect() as conn:
            row = conn.execute("SHOW ssl").fetchone()
        return bool(row and row[0] == "on")

    def create_owner(self, role: str, password: str, database: str) -> None:
        with self._connect() as conn:
            conn.execute(
                # CREATEDB: Neon's owner role may create databases (the suite does, on a branch).
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(role)
                )
            )

    def copy_database(self, parent: str, database: str, owner: str, *, exact: bool = False) -> None:
        """A branch: a copy of the parent's data, as Neon's copy-on-write branches give.

        Postgres copies a database only while nobody is connected to it. A new branch then
        starts empty (the tests that check a copy disconnect first); with `exact` (a restore,
        whose whole point is the copy) it retries for a few seconds, then raises RuntimeError.
        """
        create = sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(database), sql.Identifier(owner)
        )
        template = create + sql.SQL(" TEMPLATE {}").format(sql.Identifier(parent))
        deadline = time.monotonic() + 5
        with self._connect() as conn:
            while True:
                try:
                    conn.execute(template)
                    return
                except psycopg.errors.ObjectInUse:
                    if exact and time.monotonic() < deadline:
                        time.sleep(0.1)
                        continue
                    if exact:
                        raise RuntimeError(
                            f"cannot copy {parent}: clients stay connected to it"
                        ) from None
                    conn.execute(create)
                    return

    def rename_database(self, old: str, new: str) -> None:
        """Cut the connections to `old` (as Neon restarts a restored branch's compute), rename."""
        with self._connect() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [old]
            )
            conn.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(old), sql.Identifier(new)
                )
            )

    def drop(self, databases: list[str], roles: list[str]) -> None:
        """Drop the databases, then the roles with every database they created themselves
        (a project's role may create databases, as on Neon; deleting the project drops them)."""
        with self._connect() as conn:
            owned = conn.execute(
                "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                "WHERE r.rolname = ANY(%s)",
                [roles],
            ).fetchall()
            for database in [*databases, *(str(row[0]) for row in owned)]:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
            for role in roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
