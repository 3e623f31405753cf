"""The backend's Prometheus metrics: defined here once, counted where things happen.

Served at `/metrics` only when METRICS_TOKEN is set (api/routes/metrics.py); README
"Operations" lists every metric. Counters that move rarely (retries, refusals, lost answers)
always count, in memory, at the cost of an increment; the per-request histogram and the pool
gauges are kept only when /metrics is served (aido.api.request_observer, main.lifespan).

Several workers: `python -m aido` makes a fresh directory at each start and names it in
PROMETHEUS_MULTIPROC_DIR before it starts its workers (serve.py); prometheus_client reads that
variable itself, at import, and each worker then keeps its values in files there, which a
scrape adds up (a dead worker's counts stay in the sums; its gauges are dropped, see the
`livesum` gauges below). It is the one setting read from the environment outside Settings,
because prometheus_client needs it there.
"""

from __future__ import annotations

import os
from typing import Literal, Protocol

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

# The classic text format: every Prometheus (2.x and 3.x) and compatible scraper reads it.
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as CONTENT_TYPE
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE", "exposition"]

# Decided as prometheus_client decides it, from the same variable at the same moment (import).
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ

# --- HTTP -------------------------------------------------------------------------------------
# Requests take 1-10 ms here; a statement may wait out DB_RETRY_MAX_SECONDS (15 s) plus one
# connect (10 s), so the last bucket is 30 s.
DURATION_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REQUEST_DURATION = Histogram(
    "aido_http_request_duration_seconds",
    "Time from a request's arrival to its answer, by method, route template and status "
    "(its _count is the number of requests)",
    ("method", "route", "status"),
    buckets=DURATION_BUCKETS,
)

# --- database pool (sampled each second by every worker, and by the one that is scraped) ----
# livesum: the sum over the workers alive now (a dead worker's last value is dropped).
POOL_CONNECTIONS = Gauge(
    "aido_db_pool_connections",
    "Open connections of the app's pools, by state (in_use: checked out by a request)",
    ("state",),
    multiprocess_mode="livesum",
)
POOL_OVERFLOW = Gauge(
    "aido_db_pool_overflow_connections",
    "Open connections beyond DB_POOL_SIZE (up to DB_MAX_OVERFLOW per worker)",
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "aido_db_pool_waiting_requests",
    "Requests waiting for a connection (a free one, or one being opened)",
    multiprocess_mode="livesum",
)
POOL_CAPACITY = Gauge(
    "aido_db_pool_max_connections",
    "Connections the pools may open: (DB_POOL_SIZE + DB_MAX_OVERFLOW) per worker",
    multiprocess_mode="livesum",
)
_IN_USE = POOL_CONNECTIONS.labels("in_use")
_IDLE = POOL_CONNECTIONS.labels("idle")

# --- retries and lost answers ---------------------------------------------------------------
DB_RETRIES = Counter(
    "aido_db_retries_total",
    "Attempts of a statement repeated after a transient database error (db/retry.py)",
)
RetryOutcome = Literal["recovered", "exhausted", "failed"]
DB_RETRIED_STATEMENTS = Counter(
    "aido_db_retried_statements_total",
    "Statements that needed at least one retry, by outcome: recovered (answered), exhausted "
    "(DB_RETRY_MAX_SECONDS spent: 503), failed (then a non-transient error)",
    ("outcome",),
)
_RETRY_OUTCOMES = {o: DB_RETRIED_STATEMENTS.labels(o) for o in ("recovered", "exhausted", "failed")}

Operation = Literal["task_create", "task_delete", "user_create", "user_delete"]
UNKNOWN_OUTCOMES = Counter(
    "aido_db_unknown_outcomes_total",
    "Writes repeated after their answer was lost with the connection, by how the repeat "
    "found them: already_done (the lost attempt had committed) or done_now",
    ("operation", "resolution"),
)
_UNKNOWN = {
    (op, done): UNKNOWN_OUTCOMES.labels(op, "already_done" if done else "done_now")
    for op in ("task_create", "task_delete", "user_create", "user_delete")
    for done in (True, False)
}

# --- refusals ----------------------------------------------------------------------------------
RefusalReason = Literal[
    "login_throttled",  # 429: LOGIN_MAX_FAILURES(_PER_CLIENT) in LOGIN_WINDOW_SECONDS
    # Issue 13's limits (api/errors.py's Throttled and HashingBusy answers count them):
    "signup_throttled",  # 429: SIGNUP_MAX_PER_CLIENT in SIGNUP_WINDOW_SECONDS
    "password_change_throttled",  # 429: password change attempts
    "hashing_busy",  # 503: every Argon2 slot busy for PASSWORD_HASH_MAX_WAIT_SECONDS
    "task_limit",  # 409: TASKS_MAX_PER_USER
    "task_create_rate",  # 429: TASK_CREATES_PER_WINDOW
    "search_slots",  # 429: SEARCH_CONCURRENCY_PER_USER busy for SEARCH_QUEUE_SECONDS
    "search_timeout",  # 503: SEARCH_TIMEOUT_SECONDS
    "db_pool_exhausted",  # 503: no pooled connection within DB_POOL_TIMEOUT
    "db_pooler_queue_full",  # 503: PgBouncer's query_wait_timeout
    "body_too_large",  # 413: MAX_BODY_BYTES
    "header_timeout",  # 408: HTTP_HEADER_TIMEOUT (python -m aido)
    "body_timeout",  # 408: HTTP_BODY_TIMEOUT (python -m aido)
    "header_too_large",  # 431: HTTP_MAX_HEADER_BYTES (python -m aido)
]
REFUSALS = Counter(
    "aido_refusals_total",
    "Requests refused by a limit of the backend, by reason (README, Operations)",
    ("reason",),
)
_REFUSED = {reason: REFUSALS.labels(reason) for reason in RefusalReason.__args__}  # type: ignore[attr-defined]


def count_refusal(reason: RefusalReason) -> None:
    _REFUSED[reason].inc()


def count_retry() -> None:
    DB_RETRIES.inc()


def count_retried_statement(outcome: RetryOutcome) -> None:
    _RETRY_OUTCOMES[outcome].inc()


def count_unknown_outcome(operation: Operation, *, already_done: bool) -> None:
    """A write repeated after a lost answer (attempt > 0), and whether the lost one had done it."""
    _UNKNOWN[(operation, already_done)].inc()


class PoolFigures(Protocol):
    """What Database.pool_stats() gives (db/database.py PoolStats)."""

    @property
    def in_use(self) -> int: ...
    @property
    def idle(self) -> int: ...
    @property
    def overflow(self) -> int: ...
    @property
    def waiting(self) -> int: ...
    @property
    def capacity(self) -> int: ...


def record_pool(stats: PoolFigures) -> None:
    _IN_USE.set(stats.in_use)
    _IDLE.set(stats.idle)
    POOL_OVERFLOW.set(stats.overflow)
    POOL_WAITING.set(stats.waiting)
    POOL_CAPACITY.set(stats.capacity)


def exposition() -> bytes:
    """The text a scrape gets: every worker's values added up, or this process's own (with
    prometheus_client's process and Python collectors) when there is one process."""
    if not MULTIPROCESS:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
