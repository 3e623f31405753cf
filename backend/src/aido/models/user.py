"""Users: the request, response and table models."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import ConfigDict, EmailStr, field_validator
from sqlalchemy import Index, func, text
from sqlmodel import Field, SQLModel

from aido.models.common import timestamp_column

PASSWORD_MIN = 8
PASSWORD_MAX = 128


class UserBase(SQLModel):
    email: EmailStr = Field(max_length=320, schema_extra={"examples": ["ada@example.com"]})


class UserCreate(UserBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    password: str = Field(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        schema_extra={"examples": ["correct horse battery staple"]},
    )

    @field_validator("email", mode="before")
    @classmethod
    def _normalize_email(cls, value: object) -> object:
        # Addresses are compared without regard to case; store them the way they compare.
        return value.strip().lower() if isinstance(value, str) else value


class UserLogin(UserCreate):
    # Log-in checks the password against the stored hash; the length rules of sign-up apply
    # only as an upper bound, so that an old short password still gets a plain 401.
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class UserPublic(UserBase):
    id: uuid.UUID
    created_at: datetime


class User(UserBase, table=True):
    __tablename__ = "user"
    __table_args__ = (Index("uq_user_email_lower", func.lower(text("email")), unique=True),)

    id: uuid.UUID = Field(primary_key=True)
    hashed_password: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=timestamp_column())


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires")
