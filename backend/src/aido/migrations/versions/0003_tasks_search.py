"""task search index, per-owner task quota, idempotency body hash

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

- `ix_task_owner_search`: one GIN index of (owner_id, title, description), owner_id through
  btree_gin and the text through pg_trgm, so `title ILIKE '%…%' OR description ILIKE '%…%'`
  within one owner's tasks is a bitmap index scan, not a filter over all of them. Both
  extensions ship with stock Postgres (contrib), are trusted (a database owner may create
  them) and are available on Neon.
- `task_quota`: one row per owner with the exact number of tasks (maintained by statement
  triggers on task, so COPY, cascades and direct SQL keep it right) and the fixed window of
  creates that POST /tasks checks and counts in its own insert statement.
- `task.idempotency_hash`: SHA-256 of the body a key was first used with.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_index(
        "ix_task_owner_search",
        "task",
        ["owner_id", "title", "description"],
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops", "description": "gin_trgm_ops"},
    )
    op.add_column("task", sa.Column("idempotency_hash", sa.LargeBinary(), nullable=True))

    op.create_table(
        "task_quota",
        sa.Column(
            "owner_id",
            sa.Uuid(),
            sa.ForeignKey("user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tasks", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "window_started_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("window_creates", sa.Integer(), nullable=False, server_default="0"),
    )
    # Statement-level triggers with transition tables: one UPDATE per statement and owner, so
    # deleting an account with 100,000 tasks (ON DELETE CASCADE) is not 100,000 updates.
    op.execute(
        """
        CREATE FUNCTION task_quota_count_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO task_quota AS q (owner_id, tasks)
            SELECT owner_id, count(*) FROM inserted_tasks GROUP BY owner_id
            ON CONFLICT (owner_id) DO UPDATE SET tasks = q.tasks + EXCLUDED.tasks;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION task_quota_count_deletes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE task_quota AS q SET tasks = q.tasks - d.n
            FROM (SELECT owner_id, count(*) AS n FROM deleted_tasks GROUP BY owner_id) AS d
            WHERE q.owner_id = d.owner_id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER task_quota_on_insert AFTER INSERT ON task "
        "REFERENCING NEW TABLE AS inserted_tasks "
        "FOR EACH STATEMENT EXECUTE FUNCTION task_quota_count_inserts()"
    )
    op.execute(
        "CREATE TRIGGER task_quota_on_delete AFTER DELETE ON task "
        "REFERENCING OLD TABLE AS deleted_tasks "
        "FOR EACH STATEMENT EXECUTE FUNCTION task_quota_count_deletes()"
    )
    # Existing tasks are counted once; their owners' create windows start now.
    op.execute(
        "INSERT INTO task_quota (owner_id, tasks) "
        "SELECT owner_id, count(*) FROM task GROUP BY owner_id"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS task_quota_on_delete ON task")
    op.execute("DROP TRIGGER IF EXISTS task_quota_on_insert ON task")
    op.execute("DROP FUNCTION IF EXISTS task_quota_count_deletes()")
    op.execute("DROP FUNCTION IF EXISTS task_quota_count_inserts()")
    op.drop_table("task_quota")
    op.drop_column("task", "idempotency_hash")
    op.drop_index("ix_task_owner_search", table_name="task")
    # pg_trgm and btree_gin stay: other objects of the database may use them.
