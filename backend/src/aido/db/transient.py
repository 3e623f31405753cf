"""Which failures are worth retrying: the ones Neon and a pooler in front of Postgres produce on
cold start, suspend, restart and overload; and which mean the database cannot serve at all."""

from __future__ import annotations

import psycopg

# 57P01 admin_shutdown (Neon suspend, pg_terminate_backend, a restart), 57P02 crash_shutdown,
# 57P03 cannot_connect_now (starting up), 08xxx connection exceptions, 53300 too many
# connections (a cold compute's pooler can briefly refuse). 08P01 protocol_violation is how
# PgBouncer reports its own failures (query_wait_timeout, "server conn crashed?", "no more
# connections allowed", "pgbouncer cannot connect to server"), closing the connection.
TRANSIENT_SQLSTATES = frozenset(
    {"57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006", "08P01", "53300"}
)
# A statement name unknown (26000) or taken (42P05) on the server: psycopg's prepared
# statements behind a pooler that does not track them (DB_PREPARED_STATEMENTS=on there).
PREPARED_STATEMENT_SQLSTATES = frozenset({"26000", "42P05"})

# Connection failures that retrying cannot fix: configuration problems. psycopg reports
# connect-time FATALs without a SQLSTATE, so libpq's and PgBouncer's fixed message texts
# identify them.
_PERMANENT = {
    "password authentication failed": "wrong user or password in DATABASE_URL",
    "SASL authentication failed": "wrong user or password in DATABASE_URL (refused by the pooler)",
    "does not exist": "the database or role in DATABASE_URL does not exist",
    "no such database": "the pooler does not know the database in DATABASE_URL",
    "no such user": "the pooler does not know the user in DATABASE_URL",
    "no pg_hba.conf entry": "the server does not accept this client (pg_hba.conf)",
    "does not support SSL": "the server has no TLS; add ?sslmode=disable for a local server",
}
# PgBouncer's own failures, named in logs (fixed texts: they quote nothing of the request).
_POOLER = {
    "query_wait_timeout": "pooler: no server connection free within its query_wait_timeout",
    "server conn crashed": "pooler: its server connection broke mid-query",
    "no more connections allowed": "pooler: max_client_conn reached",
    "cannot connect to server": "pooler: cannot connect to the database",
    "server login has been failing": "pooler: cannot log in to the database (retrying)",
    "server_login_retry": "pooler: cannot log in to the database (retrying)",
    "query_timeout": "pooler: query_timeout",
    "client_idle_timeout": "pooler: client_idle_timeout",
    "pgbouncer shutting down": "pooler: shutting down",
    "database configuration changed": "pooler: configuration reloaded",
}


def _driver_error(exc: BaseException) -> BaseException:
    """The driver's own error: SQLAlchemy (migrations, through Alembic) wraps it in `orig`."""
    orig = getattr(exc, "orig", None)
    return orig if isinstance(orig, BaseException) else exc


class PoolExhausted(Exception):
    """Every connection (DB_POOL_SIZE + DB_MAX_OVERFLOW) stayed busy for DB_POOL_TIMEOUT."""


def is_database_error(exc: BaseException) -> bool:
    """Raised by the driver or the pool, not by the statement's own logic (a domain error)."""
    return isinstance(exc, psycopg.Error | PoolExhausted)


def is_transient(exc: BaseException) -> bool:
    if is_pooler_queue_full(exc):
        return False
    orig = _driver_error(exc)
    if isinstance(orig, psycopg.OperationalError):
        if _hint(orig, _PERMANENT):
            return False
        # No SQLSTATE: the connection itself failed (refused, timed out, closed mid-query).
        return orig.sqlstate is None or orig.sqlstate in TRANSIENT_SQLSTATES
    return isinstance(orig, psycopg.InterfaceError | ConnectionError | OSError)


def is_pooler_queue_full(exc: BaseException) -> bool:
    """PgBouncer's query_wait_timeout: every server connection stayed busy. Load to shed at
    once, as when the app's own pool stays full (DB_POOL_TIMEOUT), not to retry into."""
    orig = _driver_error(exc)
    return isinstance(orig, psycopg.OperationalError) and "query_wait_timeout" in str(orig)


def is_unavailable(exc: BaseException) -> bool:
    """The database (or the pooler before it) cannot serve the statement, whatever the
    statement: a broken or refused connection that retries did not fix, a configuration the
    server refuses, or prepared statements a pooler cannot hold. The API answers 503 for it,
    not 500: nothing is wrong with the request."""
    orig = _driver_error(exc)
    if isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    return getattr(orig, "sqlstate", None) in PREPARED_STATEMENT_SQLSTATES or is_transient(exc)


def _hint(orig: BaseException, table: dict[str, str]) -> str | None:
    message = str(orig)
    return next((hint for text, hint in table.items() if text in message), None)


def describe(exc: BaseException) -> str:
    """A log-safe description: the error class, SQLSTATE and a fixed hint, never the driver's
    message (it can quote SQL, values or host details), parameters or URL."""
    orig = _driver_error(exc)
    sqlstate = getattr(orig, "sqlstate", None)
    hint = _hint(orig, _PERMANENT) or _hint(orig, _POOLER)
    if sqlstate in PREPARED_STATEMENT_SQLSTATES:
        hint = "prepared statements through a pooler that does not track them: " \
               "set DB_PREPARED_STATEMENTS=auto or off"  # fmt: skip
    return (
        f"{type(orig).__name__}"
        + (f" (SQLSTATE {sqlstate})" if sqlstate else "")
        + (f": {hint}" if hint else "")
    )
