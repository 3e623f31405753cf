"""The Postgres behind the Neon emulator: roles and databases standing in for Neon projects."""

from __future__ import annotations

import ipaddress
import re
import socket
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
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(role)
                )
            )

    def copy_database(self, parent: str, database: str, owner: str) -> None:
        """A branch: a copy of the parent's data, as Neon's copy-on-write branches give."""
        create = sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(database), sql.Identifier(owner)
        )
        with self._connect() as conn:
            try:
                conn.execute(create + sql.SQL(" TEMPLATE {}").format(sql.Identifier(parent)))
            except psycopg.errors.ObjectInUse:
                # Someone is connected to the parent: Postgres cannot copy it, start empty.
                conn.execute(create)

    def drop(self, databases: list[str], roles: list[str]) -> None:
        with self._connect() as conn:
            for database in databases:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
            for role in roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
