"""CPU time per request, read from /proc for the processes that serve a case.

On a machine shared with other work, requests per second move with everyone else's load; the
CPU a request costs the processes serving it barely does. During each measured run a thread
samples, every SAMPLE_SECONDS, the user+system time of:

- app: the backend's processes (its process group: uvicorn's supervisor and workers), or the
  client processes of the psycopg ceiling (they report their own time);
- postgres: the Postgres backends serving the bench database (their process title names it,
  whether Postgres runs here or in a container: its processes are this kernel's too);
- pooler: the PgBouncer process, when the case goes through it.

A process seen first during the run counts from zero (a connection opened under load costs
that load); one that exits counts up to its last sample.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.25
_TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat(pid: int) -> tuple[int, int] | None:
    """(process group, user+system ticks) of `pid`, or None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[2]), int(fields[11]) + int(fields[12])


def _cmdline(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


@dataclass
class Watched:
    """Which processes belong to which group, decided once per pid."""

    app_pgid: int | None = None
    postgres_marker: str | None = None  # text in the process title of the backends to count
    pooler_pid: int | None = None
    _group_of: dict[int, str | None] = field(default_factory=dict)

    def group(self, pid: int, pgid: int) -> str | None:
        if pid not in self._group_of:
            name: str | None = None
            if self.app_pgid is not None and pgid == self.app_pgid:
                name = "app"
            elif self.pooler_pid is not None and pid == self.pooler_pid:
                name = "pooler"
            elif self.postgres_marker and self.postgres_marker in _cmdline(pid):
                name = "postgres"
            self._group_of[pid] = name
        return self._group_of[pid]


class CpuMeter:
    """`with CpuMeter(watched) as meter:` around a measured run; then `meter.ms()`."""

    def __init__(self, watched: Watched) -> None:
        self.watched = watched
        self._first: dict[int, int] = {}
        self._last: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.extra: dict[str, float] = {}  # CPU ms reported by processes themselves

    def _sample(self, *, baseline: bool = False) -> None:
        for entry in PROC.iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            stat = _stat(pid)
            if stat is None:
                continue
            group = self.watched.group(pid, stat[0])
            if group is None:
                continue
            if baseline:
                self._first[pid] = stat[1]
            self._last[pid] = (group, stat[1])

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def __enter__(self) -> CpuMeter:
        self._sample(baseline=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def ms(self) -> dict[str, float]:
        """CPU milliseconds spent by each group during the run."""
        totals: dict[str, float] = dict(self.extra)
        for pid, (group, ticks) in self._last.items():
            spent = (ticks - self._first.get(pid, 0)) * 1000 / _TICKS
            totals[group] = totals.get(group, 0.0) + spent
        return totals


def per_request(spent_ms: dict[str, float], requests: int) -> dict[str, float]:
    return {group: round(ms / requests, 3) for group, ms in spent_ms.items()} if requests else {}
