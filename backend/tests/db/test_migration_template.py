"""The README's `cd backend && alembic revision -m "…"` writes a file `scripts/lint` accepts,
and the developers' alembic.ini points at the migrations the package ships."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from aido.db.migrate import migrations_dir

# tests/db/ -> backend/, where developers run `alembic` (the checkout's own file).
ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def developers_config(script_location: Path) -> Config:
    """alembic.ini exactly as `alembic` reads it in backend/, aimed at a copy of the scripts."""
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(script_location))
    return cfg


def ruff_problems(script: Path) -> list[str]:
    """ruff check and ruff format --check, with the project's settings, as if the file sat in
    the package's versions/ (per-file rules included)."""
    source = script.read_text()
    where = str(migrations_dir() / "versions" / script.name)
    problems = []
    for args in (["check", "--no-fix", "--output-format=concise"], ["format", "--diff"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--stdin-filename", where, "-"],
            input=source, capture_output=True, text=True, cwd=ALEMBIC_INI.parent,
        )  # fmt: skip
        if done.returncode != 0:
            problems.append(f"ruff {args[0]}:\n{done.stdout}{done.stderr}")
    return problems


def test_the_developers_alembic_ini_uses_the_packaged_migrations() -> None:
    configured = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
    assert Path(configured.dir).resolve() == migrations_dir().resolve()


def test_a_new_revision_and_a_merge_of_two_heads_pass_lint_as_generated(tmp_path: Path) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    cfg = developers_config(scripts)
    head = ScriptDirectory.from_config(cfg).get_current_head()

    added = command.revision(cfg, message="add a column")
    # A second head from the same parent, then a merge: `down_revision` becomes a tuple.
    command.revision(cfg, message="a parallel change", head=head, splice=True)
    merged = command.merge(cfg, "heads", message="merge the two")

    for revision in (added, merged):
        assert revision is not None and not isinstance(revision, list)
        script = Path(revision.path)
        assert script.parent == scripts / "versions"
        assert ruff_problems(script) == [], script.read_text()
    assert isinstance(merged, type(added)) and len(merged.down_revision or ()) == 2
