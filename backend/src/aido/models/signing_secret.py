"""Secrets the app generates for itself, stored once per database (the JWT signing secret when
JWT_SECRET is unset): every worker and replica reads the same one, and a restart keeps it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from aido.models.common import timestamp_column


class SigningSecret(SQLModel, table=True):
    __tablename__ = "signing_secret"

    name: str = Field(primary_key=True, max_length=50)
    secret: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=timestamp_column())
