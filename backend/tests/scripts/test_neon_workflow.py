"""The branch-per-pull-request workflow (.github/workflows/neon-branch.yml), on the emulator.

GitHub Actions cannot run here, so this runs the workflow's own `run:` steps, read from the
file, in bash as the runner does (`bash -eo pipefail`, GITHUB_ENV, RUNNER_TEMP), with the
repository secrets replaced by the emulator's key and project: open a pull request (branch,
settings, migrations, the test suite on the branch), push again (the branch is reset), close
it (the branch is deleted). actionlint checks the file itself (scripts/lint).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from aido.testing.postgres import provide_postgres, wait_until_ready
from tests.scripts.conftest import REPO, Neon, script_env
from tests.support.database import query
from tests.support.neon_emulator import DEFAULT_KEY, NeonEmulator

WORKFLOW = REPO / ".github" / "workflows" / "neon-branch.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_workflow() -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def evaluate(text: str, context: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        assert expression in context, f"the workflow uses ${{{{ {expression} }}}} in env"
        return context[expression]

    return EXPRESSION.sub(value, text)


def step(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    found = [s for s in job["steps"] if s.get("id") == step_id]
    assert len(found) == 1, f"no step with id {step_id}"
    return found[0]


class Runner:
    """Runs one workflow step's `run:` script as GitHub's runner would, on this checkout."""

    def __init__(self, workflow: dict[str, Any], emulator: NeonEmulator, tmp: Path) -> None:
        self.temp = tmp / "runner-temp"
        self.temp.mkdir()
        self.github_env = tmp / "github-env"
        self.github_env.touch()
        context = {
            "secrets.NEON_API_KEY": DEFAULT_KEY,
            "secrets.NEON_PROJECT_ID": next(iter(emulator.projects)),
            "github.event.pull_request.number": "7",
        }
        env = script_env(emulator.base_url)
        for name in ("NEON_API_KEY", "TEST_DATABASE_URL", "AIDO_TEST_DB", "PYTEST_ADDOPTS"):
            env.pop(name, None)
        env.update({k: evaluate(str(v), context) for k, v in workflow["env"].items()})
        env.update(RUNNER_TEMP=str(self.temp), GITHUB_ENV=str(self.github_env), CI="true")
        self.env = env

    def exported(self) -> dict[str, str]:
        lines = self.github_env.read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def run(self, the_step: dict[str, Any], **extra: str) -> subprocess.CompletedProcess[str]:
        script = the_step["run"]
        assert "${{" not in script, "expressions belong in env:, not in run: (injection)"
        cwd = REPO / the_step.get("working-directory", ".")
        env = {**self.env, **self.exported(), **extra}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0, f"{the_step.get('name')}:\n{done.stdout}\n{done.stderr}"
        return done


def test_the_workflow_is_a_branch_per_pull_request_on_repository_secrets() -> None:
    workflow = load_workflow()
    assert set(workflow["on"]) == {"pull_request"}  # never pull_request_target
    assert set(workflow["on"]["pull_request"]["types"]) == {
        "opened", "reopened", "synchronize", "closed"
    }  # fmt: skip
    assert workflow["permissions"] == {"contents": "read"}
    text = WORKFLOW.read_text()
    used = re.findall(r"\$\{\{\s*secrets\.(\w+)", text)
    assert set(used) == {"NEON_API_KEY", "NEON_PROJECT_ID"}
    assert workflow["env"]["NEON_API_KEY"] == "${{ secrets.NEON_API_KEY }}"
    for job in workflow["jobs"].values():
        # Forks get no secrets: their pull requests skip both jobs.
        assert "head.repo.full_name == github.repository" in job["if"]
        for a_step in job["steps"]:
            # Secrets only through the workflow's env, never in a step.
            assert not re.search(r"\$\{\{\s*secrets\.", str(a_step)), a_step
    assert "!= 'closed'" in workflow["jobs"]["test"]["if"]
    assert "== 'closed'" in workflow["jobs"]["cleanup"]["if"]


def test_what_the_suite_step_leaves_out_exists() -> None:
    """A renamed test would silently run again on Neon (and fail there): catch it here."""
    script = step(load_workflow()["jobs"]["test"], "suite")["run"]
    ignored = re.findall(r"--ignore=(\S+)", script)
    deselected = re.findall(r"--deselect (\S+)", script)
    assert ignored and deselected
    backend = REPO / "backend"
    for path in ignored:
        assert (backend / path).is_dir(), path
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *deselected],
        cwd=backend, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert collected.returncode == 0, collected.stdout + collected.stderr
    for node in deselected:
        assert node in collected.stdout, node


@pytest.fixture
def separate_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[NeonEmulator]:
    """An emulator on a Postgres cluster of its own: the suite that the workflow's last step
    runs on the branch creates its databases (aido_test, …) there, away from this suite's."""
    with contextlib.ExitStack() as stack:
        with monkeypatch.context() as env:
            env.setenv("AIDO_TEST_DB", "cluster")
            admin_url = stack.enter_context(provide_postgres())
        wait_until_ready(admin_url)
        emu = stack.enter_context(NeonEmulator(admin_url, op_seconds=0.2))
        yield emu
        emu.assert_contract_kept()


@pytest.mark.slow
def test_the_workflow_steps_on_the_emulator(
    separate_emulator: NeonEmulator, tmp_path: Path
) -> None:
    emulator = separate_emulator
    neon = Neon(emulator, tmp_path)
    assert neon("provision").code == 0  # the project the repository secrets name
    workflow = load_workflow()
    test_job, cleanup_job = workflow["jobs"]["test"], workflow["jobs"]["cleanup"]
    runner = Runner(workflow, emulator, tmp_path)
    project = next(iter(emulator.projects.values()))

    # opened: a branch of its own, settings for it, migrations, the suite against it.
    runner.run(step(test_job, "branch"))
    assert [b["name"] for b in project.branches.values()] == ["main", "pr-7"]
    settings = runner.run(step(test_job, "settings"))
    url = runner.exported()["TEST_DATABASE_URL"]
    password = emulator.password_of(project.id)
    assert url.startswith("postgresql+psycopg://") and password in url
    assert f"::add-mask::{password}" in settings.stdout.splitlines()  # masked in the log
    assert f"::add-mask::{url}" in settings.stdout.splitlines()
    assert password not in settings.stderr
    branch_db = next(b for b in project.branches.values() if b["name"] == "pr-7")["id"]
    assert project.databases[branch_db][0]["name"] in url  # the branch, not main

    runner.run(step(test_job, "migrate"))
    assert query(url, "SELECT count(*) FROM alembic_version") == [(1,)]
    # The suite's own command, narrowed to one test here (the whole suite is this suite).
    suite = runner.run(
        step(test_job, "suite"),
        PYTEST_ADDOPTS="-p no:cacheprovider tests/api/test_health.py::test_healthy",
    )
    assert re.search(r"\b1 passed\b", suite.stdout), suite.stdout
    role = next(iter(project.passwords))
    owned = "SELECT datname FROM pg_database WHERE pg_get_userbyid(datdba) = %s"
    assert ("aido_test",) in query(emulator.pg.conninfo, owned, role)  # it ran on the branch

    # synchronize: the same branch, reset to its parent's latest data before migrating.
    runner.run(step(test_job, "branch"))
    assert [b["name"] for b in project.branches.values()] == ["main", "pr-7"]
    assert query(url, "SELECT to_regclass('alembic_version') IS NULL") == [(True,)]
    runner.run(step(test_job, "migrate"))
    assert query(url, "SELECT count(*) FROM alembic_version") == [(1,)]

    # closed: the branch goes, main stays.
    runner.run(step(cleanup_job, "delete"))
    assert [b["name"] for b in project.branches.values()] == ["main"]
    runner.run(step(cleanup_job, "delete"))  # a second close (reopen, close) is fine
    assert os.listdir(runner.temp) == ["neon-branch.env"]  # nothing else left behind
    neon.assert_no_password_leaked()
