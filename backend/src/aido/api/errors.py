"""One error shape for every failure: `{"detail": …}`, never a stack trace."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from aido.api.json import JSONBytes, json_response
from aido.api.security_headers import SECURITY_HEADERS
from aido.core.logging import current_request_id
from aido.core.metrics import RefusalReason, count_refusal
from aido.core.password_hashing import HashingBusy
from aido.crud.task_errors import (
    IdempotencyKeyReused,
    SearchTimedOut,
    TaskCreateRateLimited,
    TaskLimitReached,
    TooManySearches,
)
from aido.crud.throttle import Throttled
from aido.crud.users import AccountGone, EmailTaken, PasswordChangedMeanwhile
from aido.db.errors import DatabaseUnavailable

log = logging.getLogger("aido.api")

# A 54 KB body with 9,000 unknown keys made a 666 KB answer (issue 14): the first errors say
# what is wrong; the rest are counted, not listed.
MAX_VALIDATION_ERRORS = 20


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
    found = exc.errors()
    detail: list[dict[str, object]] = [
        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in found[:MAX_VALIDATION_ERRORS]
    ]
    if len(found) > MAX_VALIDATION_ERRORS:
        hidden = len(found) - MAX_VALIDATION_ERRORS
        detail.append({"loc": [], "msg": f"{hidden} more errors not shown ({len(found)} in all)",
                       "type": "too_many_errors", "count": len(found)})  # fmt: skip
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


# What each throttle refuses (crud.throttle.admit's `what`), as /metrics counts it.
THROTTLE_REFUSALS: dict[str, RefusalReason] = {
    "failed log-ins": "login_throttled",
    "sign-ups from this address": "signup_throttled",
    "password change attempts": "password_change_throttled",
}


async def _throttled(request: Request, exc: Exception) -> JSONBytes:
    assert isinstance(exc, Throttled)
    count_refusal(THROTTLE_REFUSALS[exc.what])
    await asyncio.sleep(min(REFUSAL_DELAY_SECONDS, exc.retry_after))
    return error(429, f"Too many {exc.what}; try again later",
                 {"Retry-After": str(exc.retry_after)})  # fmt: skip


async def _hashing_busy(request: Request, exc: Exception) -> JSONBytes:
    assert isinstance(exc, HashingBusy)
    count_refusal("hashing_busy")
    return error(503, "Too many password checks at once; retry later.",
                 {"Retry-After": str(exc.retry_after)})  # fmt: skip


async def _unexpected(request: Request, exc: Exception) -> JSONBytes:
    # The class name only: messages of driver errors can quote SQL and values.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    # Starlette answers this one outside every middleware: the headers are added here.
    headers = dict(SECURITY_HEADERS)
    if (request_id := current_request_id.get()) is not None:
        headers["X-Request-ID"] = request_id
    return error(500, "Internal server error", headers)


# The data layer's refusals of task operations: status, detail and headers of each.
TASK_ERRORS: dict[type[Exception], Callable[[Any], JSONBytes]] = {
    TaskLimitReached: lambda e: error(
        409,
        f"Task limit reached: an account holds at most {e.max_tasks} tasks; delete some first.",
    ),
    TaskCreateRateLimited: lambda e: error(
        429,
        f"Too many tasks created: at most {e.creates} per {e.window_seconds} s; "
        f"retry in {e.retry_after} s.",
        {"Retry-After": str(e.retry_after)},
    ),
    IdempotencyKeyReused: lambda e: error(
        422,
        [{"loc": ["header", "idempotency-key"], "type": "idempotency_key_reused",
          "msg": "This Idempotency-Key was already used with a different body; "
                 "use a new key for a new task"}],
    ),
    SearchTimedOut: lambda e: error(
        503,
        f"The search took longer than {e.seconds:g} s and was cancelled; "
        "search for something more specific.",
        {"Retry-After": str(max(1, int(e.seconds)))},
    ),
    TooManySearches: lambda e: error(
        429,
        "Too many searches at once; retry after Retry-After seconds.",
        {"Retry-After": str(e.retry_after)},
    ),
}  # fmt: skip


# The refusals among them, as /metrics counts them (aido_refusals_total).
TASK_REFUSALS: dict[type[Exception], RefusalReason] = {
    TaskLimitReached: "task_limit",
    TaskCreateRateLimited: "task_create_rate",
    SearchTimedOut: "search_timeout",
    TooManySearches: "search_slots",
}


async def _task_error(request: Request, exc: Exception) -> JSONBytes:
    if (reason := TASK_REFUSALS.get(type(exc))) is not None:
        count_refusal(reason)
    return TASK_ERRORS[type(exc)](exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)
    for task_error in TASK_ERRORS:
        app.add_exception_handler(task_error, _task_error)
    for domain_error in DOMAIN_ERRORS:
        app.add_exception_handler(domain_error, _domain_error)
    app.add_exception_handler(Throttled, _throttled)
    app.add_exception_handler(HashingBusy, _hashing_busy)
    app.add_exception_handler(Exception, _unexpected)
