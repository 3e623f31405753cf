"""accounts: the stored signing secret, token revocation, rate-limit counters, NFKC emails

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Emails are rewritten to their normalised form (NFKC, case folding, NFKC: the app's
`normalize_email`, copied here so that this migration does not change when the app does).
Only rows holding a non-ASCII character can change: ASCII addresses were stored lower-cased
already. When two rows normalise to the same address, the row that already holds it keeps it
and otherwise the oldest row gets it; every other row keeps its stored address unchanged (it
can no longer be logged into until an operator renames one of them) and is logged by id.
"""

import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("aido.migrate")
EMAIL_MAX = 320


def _timestamp(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _normalize_email(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def _normalize_stored_emails() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text('SELECT id, email FROM "user" WHERE email ~ :non_ascii ORDER BY created_at, id'),
        {"non_ascii": "[^\\x01-\\x7f]"},
    ).all()
    for user_id, email in rows:
        target = _normalize_email(email)
        if target == email:
            continue
        if len(target) > EMAIL_MAX:
            log.warning("user %s: normalised email is over %d characters; kept", user_id, EMAIL_MAX)
            continue
        holder = conn.execute(
            sa.text('SELECT id FROM "user" WHERE lower(email) = lower(:email) AND id <> :id'),
            {"email": target, "id": user_id},
        ).first()
        if holder is not None:
            log.warning(
                "user %s: its email normalises to the address of user %s, who keeps it; "
                "this account keeps its stored email and cannot log in until one is renamed",
                user_id, holder[0],
            )  # fmt: skip
            continue
        conn.execute(
            sa.text('UPDATE "user" SET email = :email WHERE id = :id'),
            {"email": target, "id": user_id},
        )


def upgrade() -> None:
    op.create_table(
        "signing_secret",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("secret", sa.Text(), nullable=False),
        _timestamp("created_at"),
    )

    op.drop_table("login_throttle")  # transient counters: the new table starts empty
    op.create_table(
        "throttle",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _timestamp("window_started_at"),
        _timestamp("next_attempt_at"),
        _timestamp("expires_at"),
    )
    op.create_index("ix_throttle_expires_at", "throttle", ["expires_at"])

    op.add_column(
        "user", sa.Column("token_generation", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("user", sa.Column("tokens_revoked_at", sa.DateTime(timezone=True)))
    op.add_column("user", sa.Column("tokens_revoked_xid", sa.BigInteger()))
    op.create_index(
        "ix_user_tokens_revoked_xid",
        "user",
        ["tokens_revoked_xid"],
        postgresql_where=sa.text("tokens_revoked_xid IS NOT NULL"),
    )
    op.create_index(
        "ix_user_tokens_revoked_at",
        "user",
        ["tokens_revoked_at"],
        postgresql_where=sa.text("tokens_revoked_at IS NOT NULL"),
    )

    _normalize_stored_emails()
    # Stored emails are normalised now, so they compare by equality (normalize_email folds
    # case beyond lower()); the old index would also refuse nothing the new one allows.
    op.create_index("uq_user_email", "user", ["email"], unique=True)
    op.drop_index("uq_user_email_lower", table_name="user")


def downgrade() -> None:
    op.create_index("uq_user_email_lower", "user", [sa.text("lower(email)")], unique=True)
    op.drop_index("uq_user_email", table_name="user")
    op.drop_index("ix_user_tokens_revoked_at", table_name="user")
    op.drop_index("ix_user_tokens_revoked_xid", table_name="user")
    op.drop_column("user", "tokens_revoked_xid")
    op.drop_column("user", "tokens_revoked_at")
    op.drop_column("user", "token_generation")
    op.drop_index("ix_throttle_expires_at", table_name="throttle")
    op.drop_table("throttle")
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(400), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        _timestamp("window_started_at"),
    )
    op.drop_table("signing_secret")
