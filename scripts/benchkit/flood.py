"""The sign-up flood cases: one logged-in user's `GET /tasks` latency, alone and beside a flood.

Issue 13's measure: one client sends sign-ups 16 at a time while a logged-in user polls
`GET /tasks` on one connection; that user's p50/p99 under the flood is compared with the same
client alone, in the same run. Two floods: from one address (the per-client sign-up limit
answers most of it with 429) and from a new address on every request (X-Forwarded-For, which
the server trusts from 127.0.0.1 by default: a distributed flood that no per-client limit
stops, so only the bound on concurrent Argon2 hashes protects the other user).

The machine is shared and its background load drifts by seconds, so quiet and flooded phases
alternate (about 2.5 s each) while one poller runs throughout; each latency counts for the
phase it started in, and the first SETTLE seconds after a switch count for neither. A quiet
phase before any flood is the second reference: a server that is still hashing for a flood that
has gone slows the quiet phases after it. The poller is a plain keep-alive HTTP/1.1 client in
this process: its own cost is the same in every phase.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from benchkit.database import conninfo
from benchkit.loadgen import MARKER
from benchkit.progress import say
from benchkit.result import CaseResult

FLOOD_SCRIPT = Path(__file__).with_name("flood.lua")
FLOOD_CONNECTIONS = 16
BASELINE_CASE = "GET /tasks, one client alone (before the floods)"
QUIET_CASE = "GET /tasks, one client alone (phases between the floods)"
FLOODS = {
    "GET /tasks beside a sign-up flood (one address, 16 at a time)": "one",
    "GET /tasks beside a sign-up flood (new address per request, 16 at a time)": "spread",
}
TARGET_RATIO = 3.0  # issue 13: p99 under the flood <= 3x the quiet p99
SETTLE = 0.3


@dataclass
class Phases:
    """Latencies (ms) of the poller, by the phase each request started in."""

    quiet: list[float] = field(default_factory=list)
    flooded: list[float] = field(default_factory=list)
    errors: int = 0
    current: str = "settling"  # "quiet", "flooded" or "settling"


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _poll(url: str, path: str, token: str, phases: Phases, stop: threading.Event) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        phase = phases.current
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            ok = False
        elapsed = (time.perf_counter() - started) * 1000
        if not ok:
            phases.errors += 1
        elif phase == "quiet":
            phases.quiet.append(elapsed)
        elif phase == "flooded":
            phases.flooded.append(elapsed)
    conn.close()


def _flood_command(wrk: str, url: str, seconds: float, mode: str) -> list[str]:
    return [wrk, "-t2", f"-c{FLOOD_CONNECTIONS}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(FLOOD_SCRIPT), url, "--", "2", mode,
            str(time.time_ns())]  # fmt: skip


def _summary(stdout: str, stderr: str) -> dict[str, float]:
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            parsed: dict[str, float] = json.loads(line[len(MARKER) :])
            return parsed
    raise RuntimeError(f"wrk printed no summary: {stderr[-2000:]}")


def _users(db_url: str) -> int:
    with psycopg.connect(conninfo(db_url)) as conn:
        row = conn.execute('SELECT count(*) FROM "user"').fetchone()
    return int(row[0]) if row else 0


def _result(name: str, latencies: list[float], seconds: float, errors: int, note: str = ""):
    return CaseResult(
        name=name, requests=len(latencies), seconds=seconds,
        p50_ms=_percentile(latencies, 50), p95_ms=_percentile(latencies, 95),
        p99_ms=_percentile(latencies, 99), errors=errors, note=note,
    )  # fmt: skip


def run_floods(
    wrk: str, url: str, db_url: str, *, path: str, token: str, seconds: float, warmup: float
) -> list[CaseResult]:
    """Per flood, `seconds` of quiet and `seconds` of flood in alternating phases; the quiet
    phases of both floods make the quiet row."""
    rounds = max(2, round(seconds / 2.5))
    phase = seconds / rounds
    quiet_all: list[float] = []
    results: list[CaseResult] = []
    # Before any flood: a server that keeps hashing after its flood has gone (the unbounded
    # one does, for seconds) also slows the quiet phases that follow, which would flatter it.
    say(f"{BASELINE_CASE}: {seconds / 2:.1f} s…")
    baseline = Phases(current="settling")
    stop = threading.Event()
    poller = threading.Thread(target=_poll, args=(url, path, token, baseline, stop))
    poller.start()
    time.sleep(warmup)
    baseline.current = "quiet"
    time.sleep(seconds / 2)
    stop.set()
    poller.join(timeout=30)
    first = _result(BASELINE_CASE, baseline.quiet, seconds / 2, baseline.errors)
    say(f"{BASELINE_CASE}: p50 {first.p50_ms:.1f} ms, p99 {first.p99_ms:.1f} ms")
    for name, mode in FLOODS.items():
        say(f"{name}: {rounds} rounds of {phase:.1f} s quiet + {phase:.1f} s flooded…")
        phases = Phases()
        stop = threading.Event()
        poller = threading.Thread(target=_poll, args=(url, path, token, phases, stop))
        poller.start()
        time.sleep(warmup)
        before = _users(db_url)
        other_sample = ""
        flood_failures: list[str] = []
        totals = {"requests": 0, "created": 0, "throttled": 0, "busy": 0, "other": 0,
                  "socket_errors": 0}  # fmt: skip
        try:
            for _ in range(rounds):
                phases.current = "quiet"
                time.sleep(phase)
                phases.current = "settling"
                flood = subprocess.Popen(_flood_command(wrk, url, phase + SETTLE, mode),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True)  # fmt: skip
                time.sleep(SETTLE)
                phases.current = "flooded"
                out, err = flood.communicate(timeout=phase + 60)
                phases.current = "settling"
                try:
                    counts = _summary(out, err)
                except RuntimeError as exc:  # e.g. the server stopped accepting connections
                    flood_failures.append(str(exc)[:200])
                    counts = {key: 0 for key in totals}
                for key in totals:
                    totals[key] += int(counts[key])
                other_sample = other_sample or str(counts.get("first_other") or "")
                time.sleep(SETTLE)
        finally:
            stop.set()
            poller.join(timeout=30)
        created = _users(db_url) - before
        quiet = _result("quiet", phases.quiet, seconds, 0)
        under = _result(name, phases.flooded, seconds, phases.errors)
        quiet_all += phases.quiet
        ratio = under.p99_ms / quiet.p99_ms if quiet.p99_ms else float("inf")
        ratio_first = under.p99_ms / first.p99_ms if first.p99_ms else float("inf")
        verdict = "met" if max(ratio, ratio_first) <= TARGET_RATIO else "NOT met"
        under.note = (
            f"p99 {ratio:.1f}x the p99 of its own quiet phases (p50 {quiet.p50_ms:.1f} ms, p99 "
            f"{quiet.p99_ms:.1f} ms) and {ratio_first:.1f}x the quiet p99 before any flood "
            f"(target <= {TARGET_RATIO:.0f}x for both: {verdict}); flood: "
            f"{totals['requests']} sign-ups answered, {totals['created']} created (201), "
            f"{totals['throttled']} refused (429), {totals['busy']} shed (503), "
            f"{totals['other']} other{f' (first: {other_sample})' if other_sample else ''}, "
            f"{totals['socket_errors']} socket errors; "
            f"{created} accounts in the database"
        )
        if flood_failures:
            under.note += (f"; the flood's wrk failed in {len(flood_failures)} of {rounds} "
                           f"rounds (first: {flood_failures[0]})")  # fmt: skip
        say(f"{name}: p50 {under.p50_ms:.1f} ms, p99 {under.p99_ms:.1f} ms; {under.note}")
        results.append(under)
    quiet_row = _result(QUIET_CASE, quiet_all, seconds * len(FLOODS), 0)
    return [first, quiet_row, *results]
