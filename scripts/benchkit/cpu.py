"""CPU time per request, read from /proc: the server's processes and the database's backends.

Req/s on this shared machine follows the other sessions' load; CPU seconds spent per request
by our own processes much less so. The server is `python -m aido` and its workers (its process
group); the database side is every backend connected to the bench database (its name is in
the backend's process title), so other databases on the same Postgres are not counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuSample:
    app_ticks: int
    db_ticks: int


def _ticks(stat: str) -> tuple[int, int, int]:
    """(utime + stime, pgid, ppid) from a /proc/<pid>/stat line."""
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is state (field 3); utime and stime are fields 14 and 15, pgrp field 5.
    return int(fields[11]) + int(fields[12]), int(fields[2]), int(fields[1])


class CpuMeter:
    def __init__(self, server_pgid: int, database: str) -> None:
        self.server_pgid = server_pgid
        self.database = database.encode()

    def sample(self) -> CpuSample:
        app = db = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ticks, pgid, _ = _ticks((entry / "stat").read_text())
                if pgid == self.server_pgid:
                    app += ticks
                    continue
                cmdline = (entry / "cmdline").read_bytes()
            except (OSError, ValueError):
                continue  # gone meanwhile
            # A backend's title: "postgres: <user> <database> <client> <state>".
            if cmdline.startswith(b"postgres: ") and f" {self.database.decode()} ".encode() in (
                cmdline.replace(b"\0", b" ") + b" "
            ):
                db += ticks
        return CpuSample(app, db)


def per_request(before: CpuSample, after: CpuSample, requests: int) -> str:
    """'app 412 µs + db 95 µs CPU per request' (a tick is 10 ms: meaningful over many)."""
    if requests <= 0:
        return "no requests"
    scale = 1e6 / TICK / requests
    app = (after.app_ticks - before.app_ticks) * scale
    db = (after.db_ticks - before.db_ticks) * scale
    return f"CPU per request: app {app:,.0f} µs + db {db:,.0f} µs"
