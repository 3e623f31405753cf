"""The database ceiling: the API's first-page query issued straight through psycopg.

No HTTP, no framework: each of `concurrency` async connections runs the statement the API
runs for `GET /tasks?limit=50` (the same SQL shape, LIMIT 51), fetches the rows as dicts,
cuts the page, encodes the next cursor with the API's own function and serialises the page
with orjson — the work the API cannot avoid. The connections are split over as many
processes as the server has workers, so both sides get the same CPU to spend.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
import uuid
from typing import Any

import orjson
import psycopg
from psycopg.rows import dict_row

from aido.models.task import SortOrder, TaskSort
from aido.queries.cursor import encode
from benchkit.cpu import CpuMeter, Watched, per_request
from benchkit.result import CaseResult

QUERY = (
    "SELECT id, title, description, completed, created_at, updated_at FROM task "
    "WHERE owner_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"
)
PAGE = 50
PREPARE_THRESHOLD = 5  # psycopg's default
START_TIMEOUT = 120.0
DIRECT_CASE = "db ceiling: psycopg list query (50)"


async def _client(
    conn: psycopg.AsyncConnection[dict[str, Any]], owners: list[uuid.UUID], offset: int,
    measure_from: float, end: float, latencies: list[int], errors: list[int],
) -> None:  # fmt: skip
    i = offset
    while True:
        began = time.monotonic()
        if began >= end:
            return
        owner = owners[i % len(owners)]
        i += 1
        try:
            cur = await conn.execute(QUERY, (owner, PAGE + 1))
            rows: list[dict[str, Any]] = await cur.fetchall()
            next_cursor = None
            if len(rows) > PAGE:
                rows = rows[:PAGE]
                next_cursor = encode(TaskSort.CREATED_AT, SortOrder.DESC, rows[-1])
            orjson.dumps({"items": rows, "next_cursor": next_cursor})
        except psycopg.Error:
            if began >= measure_from:
                errors[0] += 1
            continue
        if began >= measure_from:
            latencies.append(int((time.monotonic() - began) * 1e6))


def _process(
    conninfo: str, owners: list[uuid.UUID], first: int, count: int, warmup: float,
    seconds: float, prepare: bool, ready: Any, go: Any, out: Any,
) -> None:  # fmt: skip
    """One process: open `count` connections, say so, wait for the common start, run."""

    async def main() -> None:
        conns = [
            await psycopg.AsyncConnection.connect(
                conninfo,
                autocommit=True,
                row_factory=dict_row,
                prepare_threshold=PREPARE_THRESHOLD if prepare else None,
            )
            for _ in range(count)
        ]
        ready.put(first)
        await asyncio.to_thread(go.wait, START_TIMEOUT)
        measure_from = time.monotonic() + warmup
        end = measure_from + seconds
        latencies: list[int] = []
        errors = [0]
        cpu_at: list[float] = []  # this process's CPU seconds when the measured window opens
        loop = asyncio.get_running_loop()
        loop.call_at(measure_from, lambda: cpu_at.append(_cpu_seconds()))
        await asyncio.gather(*(
            _client(conn, owners, (first + k) * 7, measure_from, end, latencies, errors)
            for k, conn in enumerate(conns)
        ))  # fmt: skip
        cpu_ms = (_cpu_seconds() - cpu_at[0]) * 1000 if cpu_at else 0.0
        for conn in conns:
            await conn.close()
        out.put((latencies, errors[0], cpu_ms))

    asyncio.run(main())


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _percentile(sorted_values: list[int], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1)))
    return sorted_values[index] / 1000


def run_direct(
    conninfo: str,
    owners: list[uuid.UUID],
    *,
    concurrency: int,
    processes: int,
    seconds: float,
    warmup: float,
    prepare: bool = True,
    watched: Watched | None = None,
) -> CaseResult:
    """`prepare`: psycopg's server-side prepared statements (off through a pooler that does
    not track them); `watched`: Postgres and pooler processes whose CPU is reported (the
    client processes report their own)."""
    processes = max(1, min(processes, concurrency))
    shares = [concurrency // processes + (1 if p < concurrency % processes else 0)
              for p in range(processes)]  # fmt: skip
    ctx = multiprocessing.get_context("spawn")  # no inherited state from this process
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    workers, first = [], 0
    for share in shares:
        args = (conninfo, owners, first, share, warmup, seconds, prepare, ready, go, out)
        workers.append(ctx.Process(target=_process, args=args, daemon=True))
        first += share
    for worker in workers:
        worker.start()
    try:
        # Every process has connected before any starts: a slow start does not eat the time.
        for _ in workers:
            ready.get(timeout=START_TIMEOUT)
        go.set()
        spent: dict[str, float] = {}
        if watched is not None:
            time.sleep(warmup)
            with CpuMeter(watched) as meter:
                time.sleep(seconds)
            spent = meter.ms()
        parts = [out.get(timeout=warmup + seconds + START_TIMEOUT) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.terminate()
    latencies = sorted(v for part, _, _ in parts for v in part)
    cpu = {"app": sum(ms for _, _, ms in parts), **spent}
    return CaseResult(
        name=DIRECT_CASE,
        requests=len(latencies),
        seconds=seconds,
        p50_ms=_percentile(latencies, 50),
        p95_ms=_percentile(latencies, 95),
        p99_ms=_percentile(latencies, 99),
        errors=sum(e for _, e, _ in parts),
        note=f"{concurrency} async connections in {processes} processes, rows -> dicts -> orjson",
        cpu_ms=per_request(cpu, len(latencies)),
    )
