"""What the task statements refuse, as the data layer says it; api/errors.py maps each to HTTP."""

from __future__ import annotations


class TaskLimitReached(Exception):
    """The owner has TASKS_MAX_PER_USER tasks: nothing is created until some are deleted."""

    def __init__(self, max_tasks: int) -> None:
        super().__init__(f"task limit of {max_tasks} reached")
        self.max_tasks = max_tasks


class TaskCreateRateLimited(Exception):
    """The owner created TASK_CREATES_PER_WINDOW tasks in the current window."""

    def __init__(self, creates: int, window_seconds: int, retry_after: int) -> None:
        super().__init__(f"{creates} creates in {window_seconds} s")
        self.creates = creates
        self.window_seconds = window_seconds
        self.retry_after = retry_after


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was first used with another body: replaying would be a lie."""


class SearchTimedOut(Exception):
    """The search ran past SEARCH_TIMEOUT_SECONDS and Postgres cancelled it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"search cancelled after {seconds:g} s")
        self.seconds = seconds


class TooManySearches(Exception):
    """The owner's search slots stayed busy for SEARCH_QUEUE_SECONDS."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many concurrent searches")
        self.retry_after = retry_after
