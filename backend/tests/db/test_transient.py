"""Which real connection failures are retried, and how they are described in logs."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from aido.db.transient import describe, is_transient
from aido.testing.ports import free_port
from tests.support.database import libpq


def connect_error(conninfo: str) -> psycopg.OperationalError:
    with pytest.raises(psycopg.OperationalError) as info:
        psycopg.connect(conninfo, connect_timeout=3)
    return info.value


@pytest.fixture
def no_tls_server() -> Iterator[int]:
    """A peer that answers the SSLRequest with 'N', as a Postgres without TLS does."""
    listener = socket.create_server(("127.0.0.1", free_port()))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(4):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(8)
                conn.sendall(b"N")

    threading.Thread(target=serve, daemon=True).start()
    yield port
    listener.close()


def test_refused_connection_is_transient() -> None:
    exc = connect_error(f"host=127.0.0.1 port={free_port()} user=x dbname=x")
    assert is_transient(exc)
    assert describe(exc) == "OperationalError"


def test_server_without_tls_is_permanent_with_a_hint(no_tls_server: int) -> None:
    exc = connect_error(f"host=127.0.0.1 port={no_tls_server} user=x dbname=x sslmode=require")
    assert not is_transient(exc)
    assert "sslmode=disable" in describe(exc)


def test_wrong_password_is_permanent_and_not_quoted(database_url: str) -> None:
    url = make_url(database_url).set(password="wrong-password-value")
    exc = connect_error(libpq(url.render_as_string(hide_password=False)))
    assert not is_transient(exc)
    assert describe(exc) == "OperationalError: wrong user or password in DATABASE_URL"
    assert "wrong-password-value" not in describe(exc)


def test_missing_database_is_permanent(database_url: str) -> None:
    url = make_url(database_url).set(database="no_such_database_here")
    exc = connect_error(libpq(url.render_as_string(hide_password=False)))
    assert not is_transient(exc)
    assert describe(exc).endswith("does not exist")
    assert "no_such_database_here" not in describe(exc)
