"""One error shape for every failure: `{"detail": …}`, never a stack trace.

`ANSWERS` is the one table from the app's own errors (core/errors.py, raised by the data layer,
the database handle and the core) to HTTP; the other handlers cover what FastAPI and Starlette
raise themselves (unknown routes, validation) and anything unexpected (500).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from aido.api.json import JSONBytes, json_response
from aido.core.errors import (
    AccountGone,
    DatabaseUnavailable,
    DomainError,
    EmailTaken,
    HashingBusy,
    IdempotencyKeyReused,
    IncorrectCredentials,
    InvalidCursor,
    InvalidToken,
    NotAuthenticated,
    PasswordChangedMeanwhile,
    SearchTimedOut,
    TaskCreateRateLimited,
    TaskLimitReached,
    TaskNotFound,
    Throttled,
    TooManySearches,
    WrongCurrentPassword,
)
from aido.core.logging import current_request_id
from aido.core.metrics import RefusalReason, count_refusal
from aido.core.security_headers import SECURITY_HEADERS

log = logging.getLogger("aido.api")

# A 54 KB body with 9,000 unknown keys made a 666 KB answer (issue 14): the first errors say
# what is wrong; the rest are counted, not listed.
MAX_VALIDATION_ERRORS = 20
# A refusal of a rate limit is held this long before it is sent (never longer than
# Retry-After). It costs no CPU, and a client that floods without waiting for Retry-After (16
# connections sending sign-ups in a loop) then sends a few requests a second instead of
# hundreds that take the event loop from everyone else (bench/README.md, sign-up flood).
REFUSAL_DELAY_SECONDS = 1.0


@dataclass(frozen=True)
class Answer:
    status: int
    detail: object
    headers: dict[str, str] | None = None
    hold_seconds: float = 0.0  # wait this long before answering (see REFUSAL_DELAY_SECONDS)
    refusal: RefusalReason | None = None  # counted in /metrics (aido_refusals_total)


def _retry_after(seconds: int) -> dict[str, str]:
    return {"Retry-After": str(seconds)}


# What each throttle refuses (queries.throttle.admit's `what`), as /metrics counts it.
THROTTLE_REFUSALS: dict[str, RefusalReason] = {
    "failed log-ins": "login_throttled",
    "sign-ups from this address": "signup_throttled",
    "password change attempts": "password_change_throttled",
}

BEARER = {"WWW-Authenticate": "Bearer"}
_UNAUTHENTICATED = Answer(401, "Could not validate credentials", BEARER)

# Every error of core/errors.py, and how the API answers it.
ANSWERS: dict[type[DomainError], Callable[[Any], Answer]] = {
    NotAuthenticated: lambda e: _UNAUTHENTICATED,
    InvalidToken: lambda e: _UNAUTHENTICATED,
    AccountGone: lambda e: _UNAUTHENTICATED,
    IncorrectCredentials: lambda e: Answer(401, "Incorrect email or password", BEARER),
    WrongCurrentPassword: lambda e: Answer(403, "The current password is incorrect"),
    EmailTaken: lambda e: Answer(409, "An account with this email already exists"),
    PasswordChangedMeanwhile: lambda e: Answer(
        409, "The password was changed by another request; retry"
    ),
    Throttled: lambda e: Answer(
        429, f"Too many {e.what}; try again later", _retry_after(e.retry_after),
        hold_seconds=min(REFUSAL_DELAY_SECONDS, e.retry_after),
        refusal=THROTTLE_REFUSALS[e.what],
    ),
    HashingBusy: lambda e: Answer(
        503, "Too many password checks at once; retry later.", _retry_after(e.retry_after),
        refusal="hashing_busy",
    ),
    TaskNotFound: lambda e: Answer(404, "Task not found"),
    InvalidCursor: lambda e: Answer(
        422, [{"loc": ["query", "cursor"], "msg": e.reason, "type": "value_error"}]
    ),
    TaskLimitReached: lambda e: Answer(
        409,
        f"Task limit reached: an account holds at most {e.max_tasks} tasks; delete some first.",
        refusal="task_limit",
    ),
    TaskCreateRateLimited: lambda e: Answer(
        429,
        f"Too many tasks created: at most {e.creates} per {e.window_seconds} s; "
        f"retry in {e.retry_after} s.",
        _retry_after(e.retry_after),
        refusal="task_create_rate",
    ),
    IdempotencyKeyReused: lambda e: Answer(
        422,
        [{"loc": ["header", "idempotency-key"], "type": "idempotency_key_reused",
          "msg": "This Idempotency-Key was already used with a different body; "
                 "use a new key for a new task"}],
    ),
    SearchTimedOut: lambda e: Answer(
        503,
        f"The search took longer than {e.seconds:g} s and was cancelled; "
        "search for something more specific.",
        _retry_after(max(1, int(e.seconds))),
        refusal="search_timeout",
    ),
    TooManySearches: lambda e: Answer(
        429, "Too many searches at once; retry after Retry-After seconds.",
        _retry_after(e.retry_after), refusal="search_slots",
    ),
    DatabaseUnavailable: lambda e: Answer(
        503, "The database is unavailable; retry later.", _retry_after(e.retry_after)
    ),
}  # fmt: skip


def error(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONBytes:
    return json_response({"detail": detail}, status, headers)


async def _domain_error(request: Request, exc: Exception) -> JSONBytes:
    answer = ANSWERS[type(exc)](exc)  # type: ignore[index]
    if answer.refusal is not None:
        count_refusal(answer.refusal)
    if answer.hold_seconds:
        await asyncio.sleep(answer.hold_seconds)
    return error(answer.status, answer.detail, answer.headers)


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


async def _unexpected(request: Request, exc: Exception) -> JSONBytes:
    # The class name only: messages of driver errors can quote SQL and values.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    # Starlette answers this one outside every middleware: the headers are added here.
    headers = dict(SECURITY_HEADERS)
    if (request_id := current_request_id.get()) is not None:
        headers["X-Request-ID"] = request_id
    return error(500, "Internal server error", headers)


def install_error_handlers(app: FastAPI) -> None:
    # Starlette finds a handler by the exception's class hierarchy: one for all of ANSWERS.
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
