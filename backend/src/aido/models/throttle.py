"""Attempt counters of the rate limits (log-in, sign-up, password change), kept in Postgres so
every worker and replica shares them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from aido.models.common import timestamp_column


class Throttle(SQLModel, table=True):
    __tablename__ = "throttle"
    __table_args__ = (Index("ix_throttle_expires_at", "expires_at"),)

    # A kind and a SHA-256 (e.g. `login-email:<hex>`): no email or address is stored.
    key: str = Field(primary_key=True, max_length=100)
    attempts: int = 0
    window_started_at: datetime = Field(sa_column=timestamp_column())
    # Progressive delay: the next attempt is admitted no earlier than this.
    next_attempt_at: datetime = Field(sa_column=timestamp_column())
    # When the row stops mattering (window over and no delay pending): swept after that.
    expires_at: datetime = Field(sa_column=timestamp_column())
