"""Alembic environment: online migrations only, serialized across replicas."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.migration import MigrationContext, MigrationInfo
from sqlalchemy import create_engine, pool, text
from sqlmodel import SQLModel

import aido.models  # noqa: F401 - registers the tables on the metadata
from aido.db.migrate import MIGRATION_LOCK_ID, migration_url

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("url") or migration_url()
    # What this run applied, and the revision it left, for aido.db.migrate's one log line.
    applied: list[str] = config.attributes.setdefault("applied", [])

    def record(
        ctx: MigrationContext,
        step: MigrationInfo,
        heads: Collection[Any],
        run_args: Mapping[str, Any],
    ) -> None:
        # The revision's Script (its `doc` is the docstring's first lines).
        doc = str(getattr(step.up_revision, "doc", None) or "").strip().splitlines()
        applied.append(f"{step.up_revision_id} ({doc[0]})" if doc else str(step.up_revision_id))

    engine = create_engine(url, poolclass=pool.NullPool, hide_parameters=True)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, on_version_apply=record
        )
        with context.begin_transaction():
            # Replicas starting at once queue here; each then sees the version the previous
            # one wrote. A transaction-level lock also holds through PgBouncer.
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            context.run_migrations()
            config.attributes["revision"] = context.get_context().get_current_revision()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
