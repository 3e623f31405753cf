"""Failed log-in counters, kept in Postgres so every worker and replica shares them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from aido.models.common import timestamp_column


class LoginThrottle(SQLModel, table=True):
    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=400)
    failures: int = 0
    window_started_at: datetime = Field(sa_column=timestamp_column())
