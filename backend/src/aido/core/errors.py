"""Every refusal and failure the app reports, as the layer that finds it says it.

Raised by the data layer (`queries/`), the database handle (`db/`) and the core; nothing here
knows HTTP. `api/errors.py` turns each into a status, a `{"detail": …}` body and headers, in one
table; a test checks that every class here has its row there.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors below: the API answers each with its own status, never 500."""


# Accounts and tokens ---------------------------------------------------------------------


class NotAuthenticated(DomainError):
    """No bearer token, or one that is malformed, expired, forged or revoked."""


class InvalidToken(NotAuthenticated):
    """The token failed verification (signature, algorithm, claims or age)."""


class AccountGone(NotAuthenticated):
    """The token's user no longer exists (the account was deleted)."""


class IncorrectCredentials(DomainError):
    """Log-in: no account with this email, or another password (the answer does not say which)."""


class WrongCurrentPassword(DomainError):
    """Password change: the current password sent is not the account's."""


class EmailTaken(DomainError):
    """Another account has this (normalised) email."""


class PasswordChangedMeanwhile(DomainError):
    """Another request changed the password between the check and the update."""


class Throttled(DomainError):
    """A rate limit refused the attempt; `what` names what is limited, for the answer."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"too many {what}")
        self.what = what
        self.retry_after = retry_after


class HashingBusy(DomainError):
    """Every hashing slot stayed busy for the whole wait: retry after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("password hashing is busy")
        self.retry_after = retry_after


# Tasks -------------------------------------------------------------------------------------


class TaskNotFound(DomainError):
    """No such task among the owner's tasks (another owner's task is not found either)."""


class InvalidCursor(DomainError):
    """A list cursor that this API did not make, or made for another sort or order."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TaskLimitReached(DomainError):
    """The owner has TASKS_MAX_PER_USER tasks: nothing is created until some are deleted."""

    def __init__(self, max_tasks: int) -> None:
        super().__init__(f"task limit of {max_tasks} reached")
        self.max_tasks = max_tasks


class TaskCreateRateLimited(DomainError):
    """The owner created TASK_CREATES_PER_WINDOW tasks in the current window."""

    def __init__(self, creates: int, window_seconds: int, retry_after: int) -> None:
        super().__init__(f"{creates} creates in {window_seconds} s")
        self.creates = creates
        self.window_seconds = window_seconds
        self.retry_after = retry_after


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was first used with another body: replaying would be a lie."""


class SearchTimedOut(DomainError):
    """The search ran past SEARCH_TIMEOUT_SECONDS and Postgres cancelled it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"search cancelled after {seconds:g} s")
        self.seconds = seconds


class TooManySearches(DomainError):
    """The owner's search slots stayed busy for SEARCH_QUEUE_SECONDS."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many concurrent searches")
        self.retry_after = retry_after


# The database ------------------------------------------------------------------------------


class DatabaseUnavailable(DomainError):
    """The database did not answer within the retry budget, cannot serve the statement, or
    every pooled connection (or the pooler's queue) stayed busy: shed, not queued."""

    def __init__(self, reason: str, *, retry_after: int = 5) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
