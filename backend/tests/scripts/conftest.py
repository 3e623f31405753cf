"""Fixtures for scripts/neon: a Neon API emulator on the suite's Postgres, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.neon_emulator import DEFAULT_KEY, NeonEmulator

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "neon"
# `python -S` hides every site-packages directory (the venv's included): each run proves the
# script needs only the standard library, on the suite's own Python (3.11+).
INTERPRETER = [sys.executable, "-S"]

# Short waits: the emulator's operations finish in 0.2 s, and retries need not be polite here.
FAST = {
    "NEON_RETRY_BASE": "0.01",
    "NEON_RETRY_CAP": "1",
    "NEON_MAX_RETRIES": "3",
    "NEON_POLL_INTERVAL": "0.05",
    "NEON_MAX_WAIT": "20",
    "NEON_TIMEOUT": "5",
}


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def script_env(base: str | None, key: str | None = DEFAULT_KEY, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEON_")}
    env.update(FAST)
    env["AIDO_ENV_FILE"] = ""  # the developer's root .env (and any key in it) stays out
    env.pop("VIRTUAL_ENV", None)
    if base:
        env["NEON_API_BASE"] = base
    if key:
        env["NEON_API_KEY"] = key
    env.update(extra)
    return env


def run_neon(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60, shebang: bool = False
) -> Result:
    """Run scripts/neon; `shebang=True` runs the file itself (its `#!/usr/bin/env python3`)."""
    argv = [str(SCRIPT)] if shebang else [*INTERPRETER, str(SCRIPT)]
    proc = subprocess.run(
        [*argv, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    result = Result(args, proc.returncode, proc.stdout, proc.stderr)
    # Promises that hold for every run: no traceback, and errors are one line.
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("neon: error:")]
    assert len(errors) <= 1, result.stderr
    return result


@pytest.fixture
def emulator(pg_admin_url: str) -> Iterator[NeonEmulator]:
    """The emulator; the test fails if a request or answer broke Neon's published contract."""
    with NeonEmulator(pg_admin_url, op_seconds=0.2) as emu:
        yield emu
        emu.assert_contract_kept()


class Neon:
    """`neon("provision")` runs scripts/neon against the emulator in a temp directory."""

    def __init__(self, emulator: NeonEmulator, cwd: Path) -> None:
        self.emulator, self.cwd = emulator, cwd
        self.env = script_env(emulator.base_url)
        self.results: list[Result] = []

    def __call__(self, *args: str, **env: str) -> Result:
        result = run_neon(*args, env={**self.env, **env}, cwd=self.cwd)
        self.results.append(result)
        return result

    def assert_no_password_leaked(self) -> None:
        passwords = self.emulator.issued_passwords
        for result in self.results:
            if "--show-password" in result.args:
                continue
            for pw in passwords:
                assert pw not in result.output, f"password printed by {result.args}"


@pytest.fixture
def neon(emulator: NeonEmulator, tmp_path: Path) -> Iterator[Neon]:
    runner = Neon(emulator, tmp_path)
    yield runner
    runner.assert_no_password_leaked()
