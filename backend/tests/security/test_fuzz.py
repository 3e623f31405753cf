"""Fuzzing (schemathesis) against the live server's /openapi.json, authenticated.

A fixed seed and a bounded number of cases per operation keep the run reproducible and
inside the CI budget. Every response must be below 500 and conform to the schema (status
code, content type, headers, body), and no response may carry a secret.

The hypothesis loop is driven here rather than by `schemathesis.pytest.from_fixture`, whose
lazy loader breaks on pytest 9 (it sets `Function._nodeid`); the schema still comes from the
live server.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode

from tests.security.leaks import leaks
from tests.support.server import Server
from tests.support.users import signup_and_login

SEED = 20261129
MAX_EXAMPLES = 25
ANSWERS: list[int] = []


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_and_never_fails(
    mode: GenerationMode, live_server: Server, run_secrets: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_url(live_server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12, [op.label for op in operations]

    with httpx.Client(base_url=live_server.url, timeout=30) as c:
        user = signup_and_login(c)
        task_id = c.post("/tasks", json={"title": "fuzz target"}, headers=user.headers).json()["id"]
        # DELETE /users/me would end the fuzzing user's account: it gets accounts of its own.
        throwaways = (signup_and_login(c).headers for _ in itertools.count())

        def no_secrets(ctx: Any, response: schemathesis.Response, case: Any) -> None:
            found = leaks(response.content.decode(errors="replace"), run_secrets)
            assert not found, f"the response carries the {', '.join(found)}"

        alternate = itertools.cycle([True, False])
        failures: list[str] = []
        started = time.monotonic()
        for operation in operations:

            @seed(SEED)
            @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case: schemathesis.Case) -> None:
                headers = dict(user.headers)
                params = case.path_parameters
                if params and "task_id" in params and next(alternate):
                    # Half of the cases act on a real task, so bodies reach the UPDATE.
                    params["task_id"] = task_id
                if case.method == "DELETE" and case.path == "/users/me":
                    headers = next(throwaways)
                response = case.call_and_validate(headers=headers, additional_checks=[no_secrets])
                ANSWERS.append(response.status_code)

            try:
                fuzz()
            except Exception as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label}: {exc}"[:3000])
        print(f"{mode.value}: {len(ANSWERS)} cases in {time.monotonic() - started:.1f}s")
    assert not failures, "\n\n".join(failures)
