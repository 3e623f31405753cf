"""The env file writer: keys replaced, every other line kept, atomic, mode 0600."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from tests.scripts.conftest import REPO, Neon

sys.path.insert(0, str(REPO / "scripts"))
from neonctl.envfile import update_env_file  # noqa: E402


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
        "DATABASE_URL=postgresql+psycopg://new\n"
        "  # indented comment\n"
        "FRONTEND_URL=http://localhost:3000\n"
        "\n"
        "# Neon (written by scripts/neon env)\n"
        "NEON_PROJECT_ID=p-1\n"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == [".env"]  # no temporary file left behind


def test_new_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / ".env.neon"
    update_env_file(path, {"A": "1"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    update_env_file(path, {"A": "2"})
    assert path.read_text() == "# Neon (written by scripts/neon env)\nA=2\n"


def test_env_command_updates_an_existing_file(neon: Neon, tmp_path: Path) -> None:
    path = tmp_path / ".env.neon"
    path.write_text("# mine\nJWT_SECRET=abc\nDATABASE_URL=postgresql://stale\n")
    assert neon("provision").code == 0
    assert neon("env", "--file", str(path)).code == 0
    text = path.read_text()
    assert text.startswith("# mine\nJWT_SECRET=abc\nDATABASE_URL=postgresql+psycopg://")
    assert text.count("DATABASE_URL=") == 1
    assert "DATABASE_DIRECT_URL=postgresql+psycopg://" in text and "NEON_PROJECT_ID=" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_env_default_file_is_dot_env_neon_in_the_working_directory(neon: Neon) -> None:
    assert neon("provision").code == 0
    assert neon("env").code == 0
    assert (neon.cwd / ".env.neon").is_file()
