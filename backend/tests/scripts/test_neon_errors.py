"""scripts/neon error paths: one line each, a distinct exit code, bounded retries, no secrets."""

from __future__ import annotations

import json
import time
from pathlib import Path

from aido.testing.ports import free_port
from tests.scripts.conftest import Neon, run_neon, script_env
from tests.support.neon_emulator import DEFAULT_KEY, NeonEmulator

# conftest's FAST settings allow NEON_MAX_RETRIES=3 retries: 4 attempts in all.
ATTEMPTS = 4


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("neon: error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_no_key(tmp_path: Path) -> None:
    env = script_env("http://127.0.0.1:9/api/v2", key=None)
    result = run_neon("projects", env=env, cwd=tmp_path)
    assert result.code == 3
    assert "NEON_API_KEY is not set" in one_error_line(result.stderr)
    assert result.stdout == ""


def test_key_from_the_root_env_file(emulator: NeonEmulator, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"# local settings\nJWT_SECRET=x\nexport NEON_API_KEY='{DEFAULT_KEY}'\n")
    env = script_env(emulator.base_url, key=None, AIDO_ENV_FILE=str(dotenv))
    result = run_neon("projects", "--json", env=env, cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_rejected_key_401(neon: Neon) -> None:
    result = neon("projects", NEON_API_KEY="napi_wrong_key_value")
    assert result.code == 4
    line = one_error_line(result.stderr)
    assert "401" in line and "NEON_API_KEY" in line
    assert "napi_wrong_key_value" not in result.output


def test_forbidden_key_403(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.forbidden_keys.add("napi_org_key")
    result = neon("provision", NEON_API_KEY="napi_org_key")
    assert result.code == 4
    assert "403" in one_error_line(result.stderr)


def test_not_found(neon: Neon) -> None:
    by_id = neon("describe", "--project-id", "no-such-12345678")
    assert by_id.code == 5
    assert "404" in one_error_line(by_id.stderr)
    by_name = neon("connection-string", "--name", "never-provisioned")
    assert by_name.code == 5
    assert "scripts/neon provision" in one_error_line(by_name.stderr)


def test_rate_limited_past_the_bound(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.inject(429, count=100, path="/projects")
    result = neon("projects")
    assert result.code == 6
    assert "429" in one_error_line(result.stderr)
    assert emulator.count("GET", "/projects") == ATTEMPTS
    assert result.stderr.count("retry ") == ATTEMPTS - 1  # each retry announced on stderr


def test_retry_after_is_honoured(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.inject(429, count=1, retry_after=0.8)
    started = time.monotonic()
    result = neon("projects", "--json")
    assert result.code == 0, result.stderr
    assert time.monotonic() - started >= 0.8
    assert emulator.count("GET", "/projects") == 2


def test_retry_after_past_the_cap_stops_at_once(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.inject(429, count=1, retry_after=3600)
    started = time.monotonic()
    result = neon("projects")
    assert result.code == 6
    assert "wait 3600s" in one_error_line(result.stderr)
    assert time.monotonic() - started < 10
    assert emulator.count("GET", "/projects") == 1


def test_busy_and_unavailable_answers_are_retried(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.inject(423, count=2, method="POST", path="/projects")
    emulator.inject(503, count=2, method="GET", path="/connection_uri")
    result = neon("provision", "--json")
    assert result.code == 0, result.stderr
    assert "HTTP 423 on POST /projects" in result.stderr
    assert "HTTP 503 on GET" in result.stderr
    assert emulator.count("POST", "/projects") == 3
    assert len(emulator.projects) == 1  # retrying a 423 did not create a second project


def test_busy_past_the_bound(neon: Neon, emulator: NeonEmulator) -> None:
    assert neon("provision").code == 0
    emulator.inject(423, count=100, method="POST", path="/branches")
    result = neon("branch", "create", "ci-1")
    assert result.code == 7
    assert "423" in one_error_line(result.stderr)
    assert emulator.count("POST", "/branches") == ATTEMPTS


def test_server_error_on_a_write_is_not_repeated(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.inject(500, count=1, method="POST", path="/projects")
    result = neon("provision")
    assert result.code == 7
    assert "500" in one_error_line(result.stderr)
    assert emulator.count("POST", "/projects") == 1


def test_server_error_on_a_read_is_retried(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.inject(500, count=2, method="GET", path="/projects")
    assert neon("projects").code == 0
    assert emulator.count("GET", "/projects") == 3


def test_other_client_errors_are_final(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.inject(400, count=5, method="POST", message="invalid request: region not allowed")
    result = neon("provision", "--region", "aws-mars-1")
    assert result.code == 1
    assert "region not allowed" in one_error_line(result.stderr)
    assert emulator.count("POST", "/projects") == 1


def test_network_unreachable(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/v2"  # bound and released: nothing listens
    result = run_neon("provision", env=script_env(closed), cwd=tmp_path)
    assert result.code == 8
    assert "connection refused" in one_error_line(result.stderr)


def test_slow_api_times_out(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.slow(3)
    result = neon("projects", NEON_TIMEOUT="0.5", NEON_MAX_RETRIES="1")
    assert result.code == 8
    assert "timed out" in one_error_line(result.stderr)


def test_slow_api_within_the_timeout_works(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.slow(0.3)
    assert neon("projects", "--json").code == 0


def test_usage_errors(neon: Neon) -> None:
    assert neon("delete", "--name", "aido-todo").code == 2  # no --yes
    assert neon("delete", "--yes").code == 2  # no --name
    assert neon("connection-string", "--pooled", "--direct").code == 2
    assert neon("provision", NEON_MAX_WAIT="soon").code == 2


def test_env_file_that_cannot_be_written(neon: Neon, tmp_path: Path) -> None:
    assert neon("provision").code == 0
    result = neon("env", "--file", str(tmp_path / "missing-dir" / ".env.neon"))
    assert result.code == 12
    assert "cannot write" in one_error_line(result.stderr)


def test_help_lists_the_exit_codes(tmp_path: Path) -> None:
    # Run through the file's shebang: it is executable and finds its own package.
    result = run_neon("--help", env=script_env(None, key=None), cwd=tmp_path, shebang=True)
    assert result.code == 0
    for code, text in ((3, "no NEON_API_KEY"), (8, "API unreachable"), (11, "several projects")):
        assert f"{code:>3}  {text}" in result.stdout
