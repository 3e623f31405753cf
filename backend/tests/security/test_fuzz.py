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
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.support.accounts import quick_user
from tests.support.leaks import leaks
from tests.support.server import Server
from tests.support.users import signup_and_login

SEED = 20261129
MAX_EXAMPLES = 20


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_and_never_fails(
    mode: GenerationMode, live_server: Server, run_secrets: dict[str, str], database_url: str
) -> None:
    schema = schemathesis.openapi.from_url(live_server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12, [op.label for op in operations]

    with httpx.Client(base_url=live_server.url, timeout=30) as c:
        user = signup_and_login(c)
        task_id = c.post("/tasks", json={"title": "fuzz target"}, headers=user.headers).json()["id"]
        # DELETE /users/me, log-out everywhere and a password change would end the fuzzing
        # user's account or tokens: they get accounts of their own.
        # (Made with a cheap hash, like tests/api's quick users: one Argon2 sign-up each
        # would add seconds per example.)
        throwaways = (quick_user(c, database_url).headers for _ in itertools.count())
        ending = {("DELETE", "/users/me"), ("POST", "/auth/logout-all"),
                  ("POST", "/users/me/password")}  # fmt: skip

        def no_secrets(ctx: Any, response: schemathesis.Response, case: Any) -> None:
            found = leaks(response.content.decode(errors="replace"), run_secrets)
            assert not found, f"the response carries the {', '.join(found)}"

        answers: Counter[int] = Counter()
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
                if mode is GenerationMode.POSITIVE and case.query:
                    # The cursor is opaque: any string fits its schema, but only one this
                    # server issued is valid (others are 422, tested in tests/api).
                    case.query.pop("cursor", None)
                for name in [h for h in case.headers or {} if h.lower() == "idempotency-key"]:
                    # The fuzzer repeats keys across bodies: that is a 422 by design
                    # (tests/api/test_task_limits.py), not valid data rejected.
                    case.headers[name] = uuid.uuid4().hex
                if (case.method, case.path) in ending:
                    headers = next(throwaways)
                response = case.call_and_validate(headers=headers, additional_checks=[no_secrets])
                answers[response.status_code] += 1

            try:
                fuzz()
            except Unsatisfiable:
                # Negative mode has nothing to break in an operation without inputs.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as exc:  # report every operation's failure
                failures.append(f"{operation.label}: {exc}"[:3000])
        took = time.monotonic() - started
        print(f"fuzz {mode.value}: {answers.total()} cases in {took:.1f}s: {dict(answers)}")
    assert not failures, "\n\n".join(failures)
    assert not [s for s in answers if s >= 500]
    if mode is GenerationMode.POSITIVE:  # valid input reached the real code paths
        assert sum(n for s, n in answers.items() if 200 <= s < 300) >= 50, answers
