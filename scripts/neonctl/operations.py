"""Waiting for Neon operations (create_timeline, start_compute, …) to reach a final status."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from .client import Client, say
from .errors import OperationFailedError, WaitTimeoutError

SUCCESS = {"finished", "skipped"}
FAILURE = {"failed", "error", "cancelled"}
# scheduling, running, cancelling (and any status Neon adds later) mean "not yet".


def wait_for_operations(
    client: Client, project_id: str, operations: Iterable[dict[str, Any]]
) -> None:
    """Poll each operation until all succeed; raise on the first failure or at the bound."""
    pending = {op["id"]: op for op in operations if op.get("status") not in SUCCESS}
    failed = [op for op in pending.values() if op.get("status") in FAILURE]
    if failed:
        raise _failure(failed[0])
    if not pending:
        return
    s = client.settings
    started = time.monotonic()
    last_line = ""
    polls = 0
    max_polls = int(s.max_wait / s.poll_interval) + 2  # a count bound next to the time bound
    while pending:
        polls += 1
        for op_id in list(pending):
            op = client.get(f"/projects/{project_id}/operations/{op_id}")["operation"]
            status = op.get("status")
            if status in SUCCESS:
                del pending[op_id]
            elif status in FAILURE:
                raise _failure(op)
            else:
                pending[op_id] = op
        if not pending:
            break
        elapsed = time.monotonic() - started
        line = ", ".join(f"{op.get('action')} {op.get('status')}" for op in pending.values())
        if line != last_line or polls % 10 == 0:
            say(f"waiting for operations ({elapsed:.0f}s): {line}")
            last_line = line
        if elapsed + s.poll_interval > s.max_wait or polls >= max_polls:
            raise WaitTimeoutError(
                f"operations still not finished after {elapsed:.0f}s ({line}); see the project's "
                "Operations page in the Neon console, or raise NEON_MAX_WAIT and run again"
            )
        time.sleep(s.poll_interval)
    say(f"operations finished ({time.monotonic() - started:.1f}s)")


def wait_for_project_idle(client: Client, project_id: str) -> None:
    """Wait for operations already running on a project (e.g. from an earlier, interrupted run)."""
    ops = client.get(f"/projects/{project_id}/operations", limit=50).get("operations", [])
    running = [op for op in ops if op.get("status") not in SUCCESS | FAILURE]
    if running:
        wait_for_operations(client, project_id, running)


def _failure(op: dict[str, Any]) -> OperationFailedError:
    error = op.get("error") or "no error message"
    return OperationFailedError(
        f"Neon operation {op.get('action')} ({op.get('id')}) {op.get('status')}: {error}; "
        "see the project's Operations page in the Neon console"
    )
