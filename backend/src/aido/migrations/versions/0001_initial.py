"""users, tasks and log-in throttling

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "user",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("hashed_password", sa.String(255), nullable=False),
        _timestamp("created_at"),
    )
    op.create_index("uq_user_email_lower", "user", [sa.text("lower(email)")], unique=True)

    op.create_table(
        "task",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "owner_id", sa.Uuid(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
    )
    op.create_index("ix_task_owner_created", "task", ["owner_id", "created_at", "id"])
    op.create_index("ix_task_owner_updated", "task", ["owner_id", "updated_at", "id"])
    op.create_index("ix_task_owner_title", "task", ["owner_id", "title", "id"])
    op.create_index(
        "ix_task_owner_completed_created", "task", ["owner_id", "completed", "created_at", "id"]
    )
    op.create_index(
        "uq_task_owner_idempotency_key",
        "task",
        ["owner_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(400), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        _timestamp("window_started_at"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_table("task")
    op.drop_table("user")
