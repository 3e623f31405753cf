"""scripts/bench: argument parsing and the order of a run."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from aido.testing.pgbouncer import run_pgbouncer
from aido.testing.pgbouncer import version as pgbouncer_version
from aido.testing.postgres import provide_postgres
from benchkit import (
    cases,
    client,
    flood,
    hostile,
    loadgen,
    machine,
    observability,
    reference,
    report,
)
from benchkit.cpu import Watched
from benchkit.database import bench_database, conninfo, server_version
from benchkit.direct import DIRECT_CASE, run_direct
from benchkit.progress import say
from benchkit.result import CaseResult
from benchkit.seed import seed
from benchkit.server import Server, run_server

ROOT = Path(__file__).resolve().parents[2]


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure the API against /health/live and the direct psycopg query.",
    )
    p.add_argument("--quick", action="store_true", help="2 s per case (smoke test)")
    p.add_argument("--duration", type=int, default=10, help="seconds per case (default 10)")
    p.add_argument("--warmup", type=int, default=None, help="unmeasured seconds before each case")
    p.add_argument("--concurrency", type=int, default=16, help="connections (default 16)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="uvicorn workers (default WEB_CONCURRENCY, else the CPU count)",
    )
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--tasks-per-user", type=int, default=1000)
    p.add_argument(
        "--login-users",
        type=int,
        default=32,
        help="users logged in and rotated over by the load (default 32)",
    )
    p.add_argument("--big-tasks", type=int, default=100_000, help="tasks of the one big user")
    p.add_argument("--only", default="", help="run only the cases whose name has this text")
    p.add_argument(
        "--via",
        choices=("direct", "pgbouncer"),
        default="direct",
        help="how the backend (and the psycopg ceiling) reach Postgres: directly, or through "
        "a PgBouncer in transaction mode as on Neon's -pooler host (default direct)",
    )
    p.add_argument(
        "--prepared",
        choices=("auto", "on", "off"),
        default="auto",
        help="the backend's DB_PREPARED_STATEMENTS (default auto); the psycopg ceiling "
        "prepares when the backend does",
    )
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    p.add_argument("--no-write", action="store_true", help="print only, write no result files")
    args = p.parse_args(argv)  # fmt: skip
    if args.quick:
        args.duration = 2
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.workers is None:
        args.workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
    return args


def _ceiling_prepares(args: argparse.Namespace) -> bool:
    """The psycopg ceiling prepares its statement when the backend would (auto: direct)."""
    return bool(args.prepared == "on" or (args.prepared == "auto" and args.via == "direct"))


def _line(index: int, total: int, result: CaseResult) -> str:
    bad = f", first: {result.error_sample}" if result.error_sample else ""
    cpu = ", ".join(f"{group} {ms:.2f}" for group, ms in sorted(result.cpu_ms.items()))
    return (
        f"case {index}/{total} {result.name}: {result.rps:,.0f} req/s, "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, {result.errors} errors{bad}"
        + (f"; CPU ms/request: {cpu}" if cpu else "")
        + (f"; {result.note}" if result.note else "")
    )


def main(argv: list[str]) -> int:
    args = parse(argv)
    wrk = loadgen.ensure_wrk()
    started = datetime.now(UTC)
    with contextlib.ExitStack() as stack:
        admin_url = stack.enter_context(provide_postgres(durable=True))
        db_url = stack.enter_context(bench_database(admin_url))
        data = seed(db_url, users=args.users, tasks_per_user=args.tasks_per_user,
                    big_tasks=args.big_tasks)  # fmt: skip
        attacker = hostile.seed_attacker(db_url, data)
        pooler = None
        app_url, direct_url = db_url, None
        if args.via == "pgbouncer":
            # As many server connections as the load has connections: the pooler is measured,
            # not a queue in front of a smaller pool.
            pooler = stack.enter_context(run_pgbouncer(db_url, settings={
                "default_pool_size": str(args.concurrency), "max_client_conn": "1000",
            }))  # fmt: skip
            app_url, direct_url = pooler.url(db_url), db_url
        # One JWT secret for the main server and the observability variants' own servers,
        # so the users' tokens work on every one of them.
        shared = {"JWT_SECRET": secrets.token_urlsafe(48)}

        def start_server(extra: dict[str, str]) -> contextlib.AbstractContextManager[Server]:
            return run_server(
                app_url, workers=args.workers, concurrency=args.concurrency,
                direct_url=direct_url, prepared_statements=args.prepared,
                extra_env={**shared, **extra},
            )  # fmt: skip

        server = stack.enter_context(start_server({}))
        # Argon2 makes each log-in cost ~0.1-1 s of CPU: a sample of the users is logged in
        # and the load rotates over them (the direct query and the reference app use the
        # same owners).
        active = data.users[: args.login_users]
        ref = stack.enter_context(reference.run_reference(
            conninfo(app_url), [u.id for u in active], workers=server.workers,
            pool_size=server.pool_size,
        ))  # fmt: skip
        # The processes whose CPU each case reports (benchkit.cpu): the database's name is in
        # the process title of every Postgres backend serving it.
        marker = str(make_url(db_url).database)
        pooler_pid = pooler.pid if pooler else None
        watched = Watched(app_pgid=server.process.pid, postgres_marker=marker,
                          pooler_pid=pooler_pid)  # fmt: skip
        watched_ref = Watched(app_pgid=ref.process.pid, postgres_marker=marker,
                              pooler_pid=pooler_pid)  # fmt: skip
        emails = [u.email for u in active] + [data.big.email, attacker.email]
        tokens = client.login_all(server.url, emails, data.password,
                                  parallel=2 * args.workers)  # fmt: skip
        cursors = cases.deep_cursors(db_url, data, args.big_tasks)
        cases.check_deep_page(server.url, tokens[data.big.email], cursors[0])
        plan = cases.build(data, tokens, cursors, workers=args.workers)
        # The observability variants run right after the list case they are compared with.
        ordered = [m for n in plan for m in ([n, *observability.VARIANTS]
                                             if n == observability.LIST_CASE else [n])]  # fmt: skip
        steps = [n for n in [*ordered, hostile.CASE] if args.only.lower() in n.lower()]
        if cases.LIVE_CASE not in steps:
            steps.insert(0, cases.LIVE_CASE)  # the first ratio's denominator
        # The database ceiling (the second ratio's denominator) runs before the API cases
        # that touch the database.
        at = next((i for i, n in enumerate(steps) if n not in cases.NO_DB_WORK), len(steps))
        steps.insert(at, DIRECT_CASE)
        results: list[CaseResult] = []
        direct: CaseResult | None = None
        for index, name in enumerate(steps, 1):
            say(f"case {index}/{len(steps)} {name}…")
            if name == hostile.CASE:
                pair = hostile.run(
                    wrk, server.url, attacker_token=tokens[attacker.email],
                    victim_token=tokens[active[1].email], seconds=args.duration,
                    warmup=args.warmup, watched=watched,
                )  # fmt: skip
                results.extend(pair)
                result = pair[-1]
            elif name in observability.VARIANTS:
                with start_server(observability.VARIANTS[name]) as variant:
                    result = loadgen.run_case(
                        wrk, name, variant.url, plan[observability.LIST_CASE],
                        seconds=args.duration, warmup=args.warmup,
                        concurrency=args.concurrency,
                        watched=Watched(app_pgid=variant.process.pid, postgres_marker=marker,
                                        pooler_pid=pooler_pid),
                    )  # fmt: skip
                    observability.check_counted(variant.url, result)
                results.append(result)
            elif name == DIRECT_CASE:
                result = direct = run_direct(
                    conninfo(app_url), [u.id for u in active],
                    concurrency=args.concurrency, processes=args.workers,
                    seconds=args.duration, warmup=args.warmup,
                    prepare=_ceiling_prepares(args),
                    watched=Watched(postgres_marker=marker, pooler_pid=pooler_pid),
                )  # fmt: skip
            else:
                concurrency = args.concurrency
                if name == cases.login_case(args.workers):
                    concurrency = min(concurrency, cases.hashing_slots(args.workers))
                result = loadgen.run_case(
                    wrk, name, server.url, plan[name], seconds=args.duration,
                    warmup=args.warmup, concurrency=concurrency, watched=watched,
                )  # fmt: skip
                results.append(result)
                if name in reference.CASES:
                    # Right after the API's case, the same requests to the stack's best case.
                    say(_line(index, len(steps), result))
                    result = loadgen.run_case(
                        wrk, reference.name_of(name), ref.url, plan[name],
                        seconds=args.duration, warmup=args.warmup, concurrency=concurrency,
                        watched=watched_ref,
                    )  # fmt: skip
                    results.append(result)
            say(_line(index, len(steps), result))
        if any(args.only.lower() in n.lower() for n in [flood.BASELINE_CASE, *flood.FLOODS]):
            # Last: the floods create accounts and leave throttle counters behind.
            results += flood.run_floods(
                wrk, server.url, db_url, path=cases.FIRST_PAGE,
                token=tokens[active[0].email], seconds=args.duration, warmup=args.warmup,
            )  # fmt: skip
        assert direct is not None
        facts = machine.describe(
            ROOT, started_at=started.isoformat(timespec="seconds"),
            postgres=server_version(db_url), workers=server.workers,
            pool_per_worker=server.pool_size, wrk=loadgen.wrk_version(wrk),
            wrk_threads=min(loadgen.THREADS, args.concurrency),
            concurrency=args.concurrency, seconds=args.duration, warmup=args.warmup,
            via=args.via if pooler is None else f"pgbouncer ({pgbouncer_version()}, "
                "transaction mode)",
            prepared_statements=args.prepared,
            data=f"{args.users} users x {args.tasks_per_user:,} tasks + 1 user x "
                 f"{args.big_tasks:,} tasks ({data.tasks:,} rows); load as {len(active)} "
                 "logged-in users (+ the big one)",
            quick=args.quick,
        )  # fmt: skip
    return _finish(args, started, results, direct, facts)


def _finish(
    args: argparse.Namespace,
    started: datetime,
    results: list[CaseResult],
    direct: CaseResult,
    facts: dict[str, Any],
) -> int:
    data = report.rows(results, direct)
    print(report.table(data))
    if not args.no_write:
        payload = {"machine": facts, "cases": data}
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        json_path, md_path = report.write(args.out, stamp, payload, report.markdown(data, facts))
        say(f"wrote {json_path.relative_to(ROOT) if json_path.is_relative_to(ROOT) else json_path}"
            f" and {md_path.name}")  # fmt: skip
    errors = sum(r["errors"] for r in data)
    if errors:
        say(f"{errors} errors: see the table")
    return 1 if errors else 0
