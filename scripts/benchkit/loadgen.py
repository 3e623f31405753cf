"""Drive one case with wrk (Debian's package, installed when missing) and parse its summary."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchkit.cpu import CpuMeter, Watched, per_request
from benchkit.progress import say
from benchkit.result import CaseResult

SCRIPT = Path(__file__).with_name("rotate.lua")
THREADS = 2
MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str = ""
    body: str = ""  # compact JSON: no tabs or newlines

    def line(self) -> str:
        return "\t".join((self.method, self.path, self.token, self.body))


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is missing: apt-get install -y wrk…")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=True)
        subprocess.run(install, capture_output=True, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


def wrk_version(wrk: str) -> str:
    out = subprocess.run([wrk, "--version"], capture_output=True, text=True)
    return (out.stdout or out.stderr).splitlines()[0].split(" Copyright")[0]


def _run(wrk: str, url: str, path: Path, *, seconds: float, concurrency: int) -> dict[str, float]:
    threads = min(THREADS, concurrency)
    cmd = [
        wrk, f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(SCRIPT), url, "--", str(path), str(threads),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith(MARKER):
            parsed: dict[str, float] = json.loads(line[len(MARKER) :])
            return parsed
    raise RuntimeError(f"wrk printed no summary (exit {out.returncode}): {out.stderr[-2000:]}")


def run_case(
    wrk: str,
    name: str,
    url: str,
    requests: list[Request],
    *,
    seconds: float,
    warmup: float,
    concurrency: int,
    watched: Watched | None = None,
) -> CaseResult:
    """`watched`: the processes whose CPU per request the case reports (benchkit.cpu)."""
    cpu: dict[str, float] = {}
    with tempfile.NamedTemporaryFile("w", prefix="aido-bench-", suffix=".tsv") as f:
        f.write("\n".join(r.line() for r in requests) + "\n")
        f.flush()
        if warmup > 0:
            # Connections opened, statements prepared, caches warm: not measured.
            _run(wrk, url, Path(f.name), seconds=warmup, concurrency=concurrency)
        if watched is None:
            s = _run(wrk, url, Path(f.name), seconds=seconds, concurrency=concurrency)
        else:
            with CpuMeter(watched) as meter:
                s = _run(wrk, url, Path(f.name), seconds=seconds, concurrency=concurrency)
            cpu = meter.ms()
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
        cpu_ms=per_request(cpu, int(s["requests"])),
    )
