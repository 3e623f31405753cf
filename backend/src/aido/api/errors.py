"""One error shape for every failure: `{"detail": …}`, never a stack trace."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from aido.api.json import JSONBytes, json_response
from aido.core.password_hashing import HashingBusy
from aido.crud.throttle import Throttled
from aido.crud.users import AccountGone, EmailTaken, PasswordChangedMeanwhile
from aido.db.errors import DatabaseUnavailable

log = logging.getLogger("aido.api")


def error(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONBytes:
    return json_response({"detail": detail}, status, headers)


async def _http_error(request: Request, exc: Exception) -> JSONBytes:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # FastAPI answers 400 (undocumented) for a JSON body that is not UTF-8, but 422
        # json_invalid for other malformed JSON, as /auth/login does for both: one answer.
        return error(422, [{"loc": ["body"], "msg": "Body is not valid UTF-8 JSON",
                            "type": "json_invalid"}])  # fmt: skip
    return error(exc.status_code, exc.detail, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Exception) -> JSONBytes:
    assert isinstance(exc, RequestValidationError)
    # Echo where and why, not the submitted values: they may hold a password.
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return error(422, detail)


async def _database_unavailable(request: Request, exc: Exception) -> JSONBytes:
    assert isinstance(exc, DatabaseUnavailable)
    return error(
        503,
        "The database is unavailable; retry later.",
        {"Retry-After": str(exc.retry_after)},
    )


# Domain errors of the data layer and core, as (status, detail, headers).
BEARER = {"WWW-Authenticate": "Bearer"}
DOMAIN_ERRORS: dict[type[Exception], tuple[int, str, dict[str, str] | None]] = {
    EmailTaken: (409, "An account with this email already exists", None),
    AccountGone: (401, "Could not validate credentials", BEARER),
    PasswordChangedMeanwhile: (409, "The password was changed by another request; retry", None),
}


async def _domain_error(request: Request, exc: Exception) -> JSONBytes:
    status, detail, headers = DOMAIN_ERRORS[type(exc)]
    return error(status, detail, headers)


# A refusal is held this long before it is sent (never longer than Retry-After). It costs no
# CPU, and a client that floods without waiting for Retry-After (16 connections sending
# sign-ups in a loop) then sends a few requests a second instead of hundreds that take the
# event loop from everyone else (bench/README.md, sign-up flood).
REFUSAL_DELAY_SECONDS = 1.0


async def _throttled(request: Request, exc: Exception) -> JSONBytes:
    assert isinstance(exc, Throttled)
    await asyncio.sleep(min(REFUSAL_DELAY_SECONDS, exc.retry_after))
    return error(429, f"Too many {exc.what}; try again later",
                 {"Retry-After": str(exc.retry_after)})  # fmt: skip


async def _hashing_busy(request: Request, exc: Exception) -> JSONBytes:
    assert isinstance(exc, HashingBusy)
    return error(503, "Too many password checks at once; retry later.",
                 {"Retry-After": str(exc.retry_after)})  # fmt: skip


async def _unexpected(request: Request, exc: Exception) -> JSONBytes:
    # The class name only: messages of driver errors can quote SQL and values.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return error(500, "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)
    for domain_error in DOMAIN_ERRORS:
        app.add_exception_handler(domain_error, _domain_error)
    app.add_exception_handler(Throttled, _throttled)
    app.add_exception_handler(HashingBusy, _hashing_busy)
    app.add_exception_handler(Exception, _unexpected)
