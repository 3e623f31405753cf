"""The results as a terminal table, JSON and Markdown, with the two ratios per case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchkit.result import CaseResult

LIVE = "GET /health/live"
COLUMNS = ("case", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "vs live", "vs psycopg",
           "app CPU ms/req", "pg CPU ms/req", "pooler CPU ms/req",
           "app CPU vs reference")  # fmt: skip
REFERENCE_PREFIX = "reference: "
# benchkit.cpu's groups, in the order of the last three columns.
CPU_GROUPS = ("app", "postgres", "pooler")


def rows(cases: list[CaseResult], direct: CaseResult) -> list[dict[str, Any]]:
    live = next((c.rps for c in cases if c.name == LIVE), 0.0)
    reference_cpu = {c.name.removeprefix(REFERENCE_PREFIX): c.cpu_ms.get("app")
                     for c in cases if c.name.startswith(REFERENCE_PREFIX)}  # fmt: skip
    out = []
    for case in [*cases, direct]:
        ours, theirs = case.cpu_ms.get("app"), reference_cpu.get(case.name)
        out.append({
            **case.as_dict(),
            "vs_live": round(case.rps / live, 3) if live else None,
            "vs_psycopg": round(case.rps / direct.rps, 3) if direct.rps else None,
            # The API's server CPU per request over the reference app's, same requests.
            "vs_reference": round(ours / theirs, 2) if ours and theirs else None,
        })  # fmt: skip
    return out


def _cells(row: dict[str, Any]) -> list[str]:
    def pct(value: float | None) -> str:
        if value is None:
            return "-"
        return f"{value * 100:.1f} %" if value < 0.1 else f"{value * 100:.0f} %"

    def cpu(group: str) -> str:
        value = row.get("cpu_ms", {}).get(group)
        return "-" if value is None else f"{value:.2f}"

    return [row["name"], f"{row['rps']:,.0f}", f"{row['p50_ms']:.1f}", f"{row['p95_ms']:.1f}",
            f"{row['p99_ms']:.1f}", str(row["errors"]), pct(row["vs_live"]),
            pct(row["vs_psycopg"]), *(cpu(g) for g in CPU_GROUPS),
            "-" if row.get("vs_reference") is None else f"{row['vs_reference']:.2f}x"]  # fmt: skip


def table(data: list[dict[str, Any]]) -> str:
    grid = [list(COLUMNS), *(_cells(r) for r in data)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(COLUMNS))]
    lines = []
    for n, line in enumerate(grid):
        pairs = enumerate(zip(line, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(data: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    head = "| " + " | ".join(COLUMNS) + " |"
    rule = "|" + "|".join(["---", *["---:"] * (len(COLUMNS) - 1)]) + "|"
    body = ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |" for r in data]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    facts = (
        f"- {machine['started_at']}, git {machine['git']}\n"
        f"- {machine['cpu_count']} CPUs ({machine['cpu_model']}), {machine['platform']}, "
        f"Python {machine['python']}, PostgreSQL {machine['postgres']}\n"
        f"- server: `python -m aido`, {machine['workers']} uvicorn workers, pool "
        f"{machine['pool_per_worker']}/worker; load: {machine['wrk']}, {machine['wrk_threads']} "
        f"threads, {machine['concurrency']} connections, {machine['seconds']} s per case "
        f"(+{machine['warmup']} s warm-up)\n"
        f"- database path: {machine.get('via', 'direct')}, DB_PREPARED_STATEMENTS="
        f"{machine.get('prepared_statements', 'auto')}; CPU ms/req from /proc: app = the "
        "backend's processes (for the ceiling: its client processes), pg = the Postgres "
        "backends serving the bench database, pooler = PgBouncer\n"
        f"- data: {machine['data']}\n"
        f"- {versions}\n"
    )
    notes = "".join(f"- {r['name']}: {r['note']}\n" for r in data if r.get("note"))
    return "\n".join([head, rule, *body]) + "\n\n" + (notes + "\n" if notes else "") + facts


def write(out_dir: Path, stamp: str, payload: dict[str, Any], md: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stamp}.json"
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    md_path = out_dir / "latest.md"
    md_path.write_text(f"# Latest bench run\n\n{md}")
    return json_path, md_path
