"""Env files: keys replaced, other lines kept, atomic, mode 0600, every value read literally.

"Literally" by each of the three readers of `.env.neon`: Compose v2 (`docker compose
--env-file`), Compose v1.29 (`docker-compose --env-file`) and the app's own reader
(pydantic-settings on python-dotenv), each run for real on the same file.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dotenv import dotenv_values
from sqlalchemy.engine import make_url

from aido.core.config import Settings
from tests.scripts.conftest import REPO, Neon
from tests.support.neon_emulator import NeonEmulator

sys.path.insert(0, str(REPO / "scripts"))
from neonctl.envfile import EnvValueError, quote, read_env_file, update_env_file  # noqa: E402
from neonctl.urls import to_psycopg  # noqa: E402

# Values that break a naive KEY=value file: expansion, comments, quotes, spaces, backslashes.
AWKWARD = {
    "dollars": "pa$$word$HOME$1 and $ alone",
    "hash": "left #right#",
    "spaces": "  lead and trail  ",
    "double_quote": 'say "hi"',
    "single_quote": "it's",
    "backslashes": "C:\\new\\table\\\\x",
    "quotes_and_backslash": "a'b\"c\\d #e",
}


def test_replaces_keys_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# comment at the top\n"
        "JWT_SECRET=keep-me\n"
        "\n"
        "export DATABASE_URL=postgresql://old\n"
        "  # indented comment\n"
        "DATABASE_URL=postgresql://older-duplicate\n"
        "FRONTEND_URL=http://localhost:3000\n"
    )
    path.chmod(0o644)
    update_env_file(path, {"DATABASE_URL": "postgresql+psycopg://new", "NEON_PROJECT_ID": "p-1"})
    assert path.read_text() == (
        "# comment at the top\n"
        "JWT_SECRET=keep-me\n"
        "\n"
        "DATABASE_URL='postgresql+psycopg://new'\n"
        "  # indented comment\n"
        "FRONTEND_URL=http://localhost:3000\n"
        "\n"
        "# Neon (written by scripts/neon env)\n"
        "NEON_PROJECT_ID='p-1'\n"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == [".env"]  # no temporary file left behind


def test_new_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / ".env.neon"
    update_env_file(path, {"A": "1"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    update_env_file(path, {"A": "2"})
    assert path.read_text() == "# Neon (written by scripts/neon env)\nA='2'\n"


def test_awkward_values_read_back_unchanged_by_python_dotenv_and_our_reader(
    tmp_path: Path,
) -> None:
    path = tmp_path / ".env.neon"
    update_env_file(path, AWKWARD)
    assert dotenv_values(path) == AWKWARD  # python-dotenv 1.x, the app's reader
    assert read_env_file(path) == AWKWARD  # scripts/neon's own, stdlib-only reader


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("a${HOME}b", "${…}"),
        ("${X:-y}", "${…}"),
        ("pa$s'word", "$ together with a quote or a backslash"),
        ("pa$s\\word", "$ together with a quote or a backslash"),
        ("two\nlines", "line break"),
        ("ends with \\", "ends with a backslash"),
    ],
)
def test_values_the_readers_disagree_on_are_refused(value: str, why: str) -> None:
    with pytest.raises(EnvValueError) as refused:
        quote("JWT_SECRET", value)
    message = str(refused.value)
    assert "JWT_SECRET" in message and why in message
    assert value not in message


def test_connection_urls_are_always_writable() -> None:
    # Neon's passwords are letters and digits, but nothing in the URL can trip a reader.
    uri = "postgresql://own%27er:p%24ss%27w%5Cd%23@ep-x.us-east-2.aws.neon.tech/neon%24db"
    url = to_psycopg(uri)
    assert "$" not in url and "'" not in url and "\\" not in url
    assert quote("DATABASE_URL", url) == f"'{url}'"
    parsed = make_url(url)
    assert parsed.username == "own'er"
    assert (parsed.password, parsed.database) == ("p$ss'w\\d#", "neon$db")


def test_reading_dot_env_follows_python_dotenv(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# comment\n"
        "PLAIN=abc # trailing comment\n"
        "export EXPORTED=yes\n"
        "SINGLE='it\\'s # not a comment'\n"
        'DOUBLE="tab\\there \\"quoted\\""\n'
        "EMPTY=\n"
        "MULTI='one\ntwo'\n"
        "HASHED=a#b\n"
        "REPEATED=first\n"
        "REPEATED=second\n"
    )
    expected = {k: v for k, v in dotenv_values(path, interpolate=False).items() if v is not None}
    assert read_env_file(path) == expected
    assert expected["SINGLE"] == "it's # not a comment" and expected["REPEATED"] == "second"


def test_env_command_keeps_other_lines_and_an_existing_jwt_secret(
    neon: Neon, tmp_path: Path
) -> None:
    path = tmp_path / ".env.neon"
    secret = "mine-" + "x" * 40
    path.write_text(f"# mine\nJWT_SECRET={secret}\nDATABASE_URL=postgresql://stale\n")
    assert neon("provision").code == 0
    written = neon("env", "--file", str(path))
    assert written.code == 0, written.stderr
    assert "JWT_SECRET kept" in written.stderr and secret not in written.output
    text = path.read_text()
    assert text.startswith(f"# mine\nJWT_SECRET={secret}\nDATABASE_URL='postgresql+psycopg://")
    assert text.count("DATABASE_URL=") == 1 and text.count("JWT_SECRET=") == 1
    assert "DATABASE_DIRECT_URL='postgresql+psycopg://" in text and "NEON_PROJECT_ID=" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_env_generates_a_jwt_secret_once_and_never_prints_it(neon: Neon) -> None:
    assert neon("provision").code == 0
    first = neon("env")
    assert first.code == 0, first.stderr
    path = neon.cwd / ".env.neon"
    secret = read_env_file(path)["JWT_SECRET"]
    assert len(secret.encode()) >= 32  # the backend refuses shorter ones
    assert "a new JWT_SECRET" in first.stderr and secret not in first.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = neon("env")
    assert again.code == 0 and "JWT_SECRET kept" in again.stderr
    assert read_env_file(path)["JWT_SECRET"] == secret  # kept on later runs
    assert secret not in again.output


def test_env_copies_the_jwt_secret_of_dot_env(neon: Neon, tmp_path: Path) -> None:
    dotenv = tmp_path / "project.env"
    secret = 'it\'s a "secret" with \\ and # in it, long enough'
    dotenv.write_text(
        'JWT_SECRET="it\'s a \\"secret\\" with \\\\ and # in it, long enough"\n'
        "FRONTEND_URL=https://app.example.com\nNEON_API_KEY=x\nDB_PORT=5434\n"
    )
    assert dotenv_values(dotenv)["JWT_SECRET"] == secret  # what the app reads in local mode
    assert neon("provision").code == 0
    written = neon("env", AIDO_ENV_FILE=str(dotenv))
    assert written.code == 0, written.stderr
    assert f"JWT_SECRET copied from {dotenv}" in written.stderr and secret not in written.output
    # Settings that Neon mode would lose are named (never their values), local-only ones not.
    assert "also sets FRONTEND_URL;" in written.stderr
    assert dotenv_values(neon.cwd / ".env.neon")["JWT_SECRET"] == secret


def test_env_refuses_a_jwt_secret_the_readers_would_disagree_on(neon: Neon, tmp_path: Path) -> None:
    dotenv = tmp_path / "project.env"
    dotenv.write_text('JWT_SECRET="pa$word\'that compose v2 would change"\n')
    assert neon("provision").code == 0
    refused = neon("env", AIDO_ENV_FILE=str(dotenv))
    assert refused.code == 2
    assert "JWT_SECRET contains $ together with a quote" in refused.stderr
    assert "pa$word" not in refused.output
    assert not (neon.cwd / ".env.neon").exists()


def compose_available(command: list[str]) -> bool:
    if shutil.which(command[0]) is None:
        return False
    return subprocess.run([*command, "version"], capture_output=True, check=False).returncode == 0


# The shell wins over the env file in Compose's interpolation: keep the suite's own out.
READ_BY_BACKEND = {"DATABASE_URL", "DATABASE_DIRECT_URL", "JWT_SECRET"}


def compose_environment(command: list[str], env_file: Path, tmp_path: Path) -> dict[str, str]:
    """The backend service's environment as this Compose reads compose.yaml + the env file."""
    base = [*command, "-f", str(REPO / "compose.yaml"), "-p", "neon-envfile-check"]
    env = {k: v for k, v in os.environ.items() if k not in READ_BY_BACKEND}
    if command == ["docker", "compose"]:  # v2 has JSON output
        out = subprocess.run(
            [*base, "--env-file", str(env_file), "config", "--format", "json"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        environment = json.loads(out.stdout)["services"]["backend"]["environment"]
    else:
        out = subprocess.run(
            [*base, "--env-file", str(env_file), "config"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        environment = yaml.safe_load(out.stdout)["services"]["backend"]["environment"]
    # `config` prints a literal `$` as `$$`, ready to be read back as a compose file.
    return {k: str(v).replace("$$", "$") for k, v in environment.items() if v is not None}


@pytest.mark.parametrize("compose", [["docker", "compose"], ["docker-compose"]], ids=["v2", "v1"])
def test_compose_and_the_app_read_env_neon_alike(
    compose: list[str],
    pg_admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not compose_available(compose):
        pytest.skip(f"{' '.join(compose)} is not installed (the container lab installs both)")
    awkward = "p$ss#w'o\"r\\d x"
    with NeonEmulator(pg_admin_url, op_seconds=0.05, password_alphabet=awkward) as emu:
        runner = Neon(emu, tmp_path)
        assert runner("provision").code == 0
        secret_file = tmp_path / "project.env"
        secret_file.write_text("JWT_SECRET='a #secret with spaces, \"quotes\" and $ signs'\n")
        assert runner("env", AIDO_ENV_FILE=str(secret_file)).code == 0
        password = emu.password_of(next(iter(emu.projects)))
        emu.assert_contract_kept()
    env_neon = tmp_path / ".env.neon"
    written = read_env_file(env_neon)
    assert written["JWT_SECRET"] == 'a #secret with spaces, "quotes" and $ signs'

    seen = compose_environment(compose, env_neon, tmp_path)
    for key in ("DATABASE_URL", "DATABASE_DIRECT_URL", "JWT_SECRET"):
        assert seen[key] == written[key], key
    assert make_url(seen["DATABASE_URL"]).password == password

    # The app's reader, on the same file (as `AIDO_ENV_FILE=.env.neon python -m aido` uses it).
    for key in ("DATABASE_URL", "DATABASE_DIRECT_URL", "JWT_SECRET"):
        monkeypatch.delenv(key, raising=False)
    settings = Settings(_env_file=env_neon)  # type: ignore[call-arg]
    assert written["JWT_SECRET"] == settings.JWT_SECRET
    assert make_url(settings.DATABASE_URL).password == password
    assert settings.DATABASE_DIRECT_URL is not None
    assert make_url(settings.DATABASE_DIRECT_URL).password == password
