"""Which failures are worth retrying: the ones Neon produces on cold start and suspend."""

from __future__ import annotations

import psycopg
from sqlalchemy import exc as sa_exc

# 57P01 admin_shutdown (Neon suspend, pg_terminate_backend), 57P02 crash_shutdown,
# 57P03 cannot_connect_now (starting up), 08xxx connection exceptions, 53300 too many
# connections (a cold compute's pooler can briefly refuse).
TRANSIENT_SQLSTATES = frozenset(
    {"57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006", "53300"}
)


# Connection failures that retrying cannot fix: configuration problems. psycopg reports
# connect-time FATALs without a SQLSTATE, so libpq's fixed message texts identify them.
_PERMANENT = {
    "password authentication failed": "wrong user or password in DATABASE_URL",
    "does not exist": "the database or role in DATABASE_URL does not exist",
    "no pg_hba.conf entry": "the server does not accept this client (pg_hba.conf)",
    "does not support SSL": "the server has no TLS; add ?sslmode=disable for a local server",
}


def _driver_error(exc: BaseException) -> BaseException:
    return exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    orig = _driver_error(exc)
    if isinstance(orig, psycopg.OperationalError):
        if _hint(orig):
            return False
        # No SQLSTATE: the connection itself failed (refused, timed out, closed mid-query).
        return orig.sqlstate is None or orig.sqlstate in TRANSIENT_SQLSTATES
    return isinstance(orig, psycopg.InterfaceError | ConnectionError | OSError)


def _hint(orig: BaseException) -> str | None:
    message = str(orig)
    return next((hint for text, hint in _PERMANENT.items() if text in message), None)


def describe(exc: BaseException) -> str:
    """A log-safe description: the error class, SQLSTATE and a fixed hint, never the driver's
    message (it can quote SQL, values or host details), parameters or URL."""
    orig = _driver_error(exc)
    sqlstate = getattr(orig, "sqlstate", None)
    hint = _hint(orig)
    return (
        f"{type(orig).__name__}"
        + (f" (SQLSTATE {sqlstate})" if sqlstate else "")
        + (f": {hint}" if hint else "")
    )
