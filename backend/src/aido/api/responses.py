"""The error responses each endpoint documents in OpenAPI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    detail: Any


def _error(description: str, example: Any) -> dict[str, Any]:
    return {
        "model": ErrorDetail,
        "description": description,
        "content": {"application/json": {"example": {"detail": example}}},
    }


ERRORS: dict[int, dict[str, Any]] = {
    401: _error("Missing, invalid or expired token, or the user no longer exists",
                "Could not validate credentials"),
    403: _error("The current password is incorrect", "The current password is incorrect"),
    404: _error("No such task among the caller's tasks", "Task not found"),
    409: _error("The email is already registered (or, for a password change, another "
                "request changed it first)", "An account with this email already exists"),
    413: _error("The request body is over the size limit",
                "Request body is larger than the limit of 65536 bytes."),
    422: _error("The request is not valid",
                [{"loc": ["body", "title"], "msg": "String should have at least 1 character",
                  "type": "string_too_short"}]),
    429: _error("Too many attempts (log-ins, sign-ups or password changes); retry after "
                "Retry-After seconds", "Too many failed log-ins; try again later"),
    503: _error("The database is unavailable, or (sign-up, log-in, password change) too many "
                "password checks run at once; retry after Retry-After seconds",
               "The database is unavailable; retry later."),
}  # fmt: skip


def errors(*codes: int, **described: tuple[str, Any]) -> dict[int | str, dict[str, Any]]:
    """The documented errors of `codes`; `described` (e.g. `e429=(description, example)`)
    replaces the generic text of a code where this endpoint means something else by it."""
    docs: dict[int | str, dict[str, Any]] = {code: ERRORS[code] for code in codes}
    for name, (description, example) in described.items():
        docs[int(name.removeprefix("e"))] = _error(description, example)
    return docs
