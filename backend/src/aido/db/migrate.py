"""Bring the schema to Alembic's head: at start-up, from the CLI, and in tests."""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config

from aido.core.config import Settings, get_settings
from aido.core.db_url import direct_url, redact_url

log = logging.getLogger("aido.migrate")

# Any constant shared by all replicas of this app: the key of the migration advisory lock.
MIGRATION_LOCK_ID = 0x41_49_44_4F  # "AIDO"


def migration_url(settings: Settings | None = None) -> str:
    """The direct host: DDL and the migration lock must not go through PgBouncer."""
    settings = settings or get_settings()
    return settings.DATABASE_DIRECT_URL or direct_url(settings.DATABASE_URL)


def migrations_dir() -> Path:
    """The package's migrations (env.py, script.py.mako, versions/), wherever it is installed.
    Alembic reads them as files: the package must be installed as files (a wheel or a
    checkout), not imported from a zip."""
    path = Path(str(files("aido") / "migrations"))
    if not (path / "env.py").is_file():
        raise RuntimeError(f"the aido package has no migrations at {path}: reinstall it")
    return path


def alembic_config(url: str) -> Config:
    """The app's Alembic configuration, needing no alembic.ini (the wheel ships none: that file
    is for developers' `alembic` commands in backend/, and points at the same directory)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("path_separator", "os")
    # Passed as an attribute, not an ini option: no ConfigParser interpolation of `%` in
    # passwords, and nothing written anywhere.
    cfg.attributes["url"] = url
    return cfg


def upgrade_head(settings: Settings | None = None) -> list[str]:
    """Migrates to head under the advisory lock (migrations/env.py) and says so in one line:
    what this process applied, or that the schema was already at head. Returns the applied
    revisions."""
    url = migration_url(settings)
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    applied: list[str] = cfg.attributes.get("applied", [])
    revision = cfg.attributes.get("revision")
    if applied:
        log.info(
            "migrations: applied %s on %s; schema at head (%s)",
            ", ".join(applied), redact_url(url), revision,
        )  # fmt: skip
    else:
        log.info("migrations: none to apply on %s; schema already at head (%s)",
                 redact_url(url), revision)  # fmt: skip
    return applied
