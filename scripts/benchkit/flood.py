"""The sign-up flood cases: one logged-in user's `GET /tasks` latency, alone and beside a flood.

Issue 13's measure: one client sends sign-ups 16 at a time while a logged-in user polls
`GET /tasks` on one connection; the user's p50/p99 under the flood is compared with the same
client alone, in the same run. Two floods: from one address (the per-client sign-up limit
answers most of it with 429) and from a new address on every request (X-Forwarded-For, which
the server trusts from 127.0.0.1 by default: a distributed flood that no per-client limit
stops, so only the bound on concurrent Argon2 hashes protects the other user).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from benchkit.database import conninfo
from benchkit.loadgen import MARKER, SCRIPT, Request
from benchkit.progress import say
from benchkit.result import CaseResult

FLOOD_SCRIPT = Path(__file__).with_name("flood.lua")
FLOOD_CONNECTIONS = 16
QUIET_CASE = "GET /tasks, one client alone"
FLOODS = {
    "GET /tasks beside a sign-up flood (one address, 16 at a time)": "one",
    "GET /tasks beside a sign-up flood (new address per request, 16 at a time)": "spread",
}
TARGET_RATIO = 3.0  # issue 13: p99 under the flood <= 3x the quiet p99


@dataclass
class FloodCounts:
    requests: int
    created: int
    throttled: int
    busy: int
    other: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    def line(self) -> str:
        return (
            f"flood: {self.requests} sign-ups sent, {self.created} created (201), "
            f"{self.throttled} refused (429), {self.busy} shed (503), {self.other} other, "
            f"{self.socket_errors} socket errors; its own p50 {self.p50_ms:.0f} ms, "
            f"p99 {self.p99_ms:.0f} ms"
        )


def _summary(out: subprocess.CompletedProcess[str]) -> dict[str, float]:
    for line in out.stdout.splitlines():
        if line.startswith(MARKER):
            parsed: dict[str, float] = json.loads(line[len(MARKER) :])
            return parsed
    raise RuntimeError(f"wrk printed no summary (exit {out.returncode}): {out.stderr[-2000:]}")


def _poller(wrk: str, url: str, requests: Path, seconds: float) -> list[str]:
    return [wrk, "-t1", "-c1", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
            "-s", str(SCRIPT), url, "--", str(requests), "1"]  # fmt: skip


def _flood(wrk: str, url: str, seconds: float, mode: str) -> list[str]:
    return [wrk, "-t2", f"-c{FLOOD_CONNECTIONS}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(FLOOD_SCRIPT), url, "--", "2", mode]  # fmt: skip


def _result(name: str, s: dict[str, float], note: str = "") -> CaseResult:
    socket_errors = s["connect"] + s["read"] + s["write"] + s["timeout"]
    return CaseResult(
        name=name,
        requests=int(s["requests"]),
        seconds=s["duration_us"] / 1e6,
        p50_ms=s["p50_us"] / 1000,
        p95_ms=s["p95_us"] / 1000,
        p99_ms=s["p99_us"] / 1000,
        errors=int(s["non2xx"] + socket_errors),
        error_sample=str(s.get("first_bad") or ""),
        note=note,
    )


def _users(db_url: str) -> int:
    with psycopg.connect(conninfo(db_url)) as conn:
        row = conn.execute('SELECT count(*) FROM "user"').fetchone()
    return int(row[0]) if row else 0


def run_floods(
    wrk: str, url: str, db_url: str, poll: Request, *, seconds: float, warmup: float
) -> list[CaseResult]:
    """The quiet client first, then the same client beside each flood; one result each."""
    timeout = seconds + 60
    with tempfile.NamedTemporaryFile("w", prefix="aido-bench-", suffix=".tsv") as f:
        f.write(poll.line() + "\n")
        f.flush()
        requests = Path(f.name)
        if warmup > 0:
            subprocess.run(_poller(wrk, url, requests, warmup), capture_output=True, text=True,
                           timeout=timeout)  # fmt: skip
        quiet = _result(QUIET_CASE, _summary(subprocess.run(
            _poller(wrk, url, requests, seconds), capture_output=True, text=True, timeout=timeout
        )))  # fmt: skip
        say(f"{QUIET_CASE}: p50 {quiet.p50_ms:.1f} ms, p99 {quiet.p99_ms:.1f} ms, "
            f"{quiet.requests} requests, {quiet.errors} errors")  # fmt: skip
        results = [quiet]
        for name, mode in FLOODS.items():
            say(f"{name}…")
            before = _users(db_url)
            flood = subprocess.Popen(_flood(wrk, url, seconds, mode), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)  # fmt: skip
            polled = subprocess.run(_poller(wrk, url, requests, seconds), capture_output=True,
                                    text=True, timeout=timeout)  # fmt: skip
            out, err = flood.communicate(timeout=timeout)
            counts_raw = _summary(subprocess.CompletedProcess(flood.args, flood.returncode,
                                                              out, err))  # fmt: skip
            counts = FloodCounts(
                requests=int(counts_raw["requests"]), created=int(counts_raw["created"]),
                throttled=int(counts_raw["throttled"]), busy=int(counts_raw["busy"]),
                other=int(counts_raw["other"]), socket_errors=int(counts_raw["socket_errors"]),
                p50_ms=counts_raw["p50_us"] / 1000, p99_ms=counts_raw["p99_us"] / 1000,
            )  # fmt: skip
            created = _users(db_url) - before
            under = _result(name, _summary(polled))
            ratio = under.p99_ms / quiet.p99_ms if quiet.p99_ms else float("inf")
            verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
            under.note = (
                f"p99 {ratio:.1f}x the quiet p99 (target <= {TARGET_RATIO:.0f}x: {verdict}); "
                f"{counts.line()}; {created} accounts in the database"
            )
            say(f"{name}: p50 {under.p50_ms:.1f} ms, p99 {under.p99_ms:.1f} ms "
                f"(quiet {quiet.p50_ms:.1f} / {quiet.p99_ms:.1f}), {under.errors} errors; "
                f"{under.note}")  # fmt: skip
            results.append(under)
    return results
