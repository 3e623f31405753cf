"""Users: the request, response and table models."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime

from pydantic import ConfigDict, EmailStr, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, text
from sqlmodel import Field, SQLModel

from aido.models.common import timestamp_column

PASSWORD_MIN = 8
PASSWORD_MAX = 128
EMAIL_MAX = 320
DEVICE_TOKEN_MAX = 1024


def normalize_email(value: str) -> str:
    """The form an address is stored and compared in: NFKC, Unicode case folding, NFKC again
    (folding can leave text that is not NFKC), trimmed. Fullwidth `ａｄａ@ｅｘａｍｐｌｅ.ｃｏｍ`
    and `ADA@example.com` both become `ada@example.com`; `ß` becomes `ss`."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


class UserBase(SQLModel):
    email: EmailStr = Field(max_length=EMAIL_MAX, schema_extra={"examples": ["ada@example.com"]})


class _NormalizedEmail(UserBase):
    @field_validator("email", mode="before")
    @classmethod
    def _normalize_email(cls, value: object) -> object:
        return normalize_email(value) if isinstance(value, str) else value


class UserCreate(_NormalizedEmail):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    password: str = Field(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        schema_extra={"examples": ["correct horse battery staple"]},
    )

    @field_validator("email")
    @classmethod
    def _refuse_lookalikes(cls, value: str) -> str:
        # After NFKC and case folding, an address that is still not ASCII has letters that can
        # look like other letters (dotless ı, İ's i + combining dot, Cyrillic а): telling them
        # apart needs UTS #39's confusables data, so new accounts are ASCII (see README).
        if not value.isascii():
            raise PydanticCustomError(
                "email_not_ascii",
                "Email must be ASCII after normalisation (NFKC and case folding): letters of "
                "other scripts can look like another address's; for an internationalised "
                "domain use its ASCII form (xn--…)",
            )
        return value


class UserLogin(_NormalizedEmail):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    # Log-in checks the password against the stored hash; the length rules of sign-up apply
    # only as an upper bound, so that an old short password still gets a plain 401. Emails are
    # normalised as at sign-up but not refused: an account made before the ASCII rule logs in.
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    device_token: str | None = Field(
        default=None,
        max_length=DEVICE_TOKEN_MAX,
        description="The `device_token` of an earlier log-in to this account from this device "
        "(or the `aido_device` cookie): its failures are then counted on their own, so an "
        "attack on the email from elsewhere does not lock this device out.",
    )


class PasswordChange(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new_password: str = Field(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        schema_extra={"examples": ["a new correct horse battery staple"]},
    )


class UserPublic(UserBase):
    id: uuid.UUID
    created_at: datetime


class User(UserBase, table=True):
    __tablename__ = "user"
    __table_args__ = (
        # Emails are stored normalised (normalize_email), so equality is the comparison.
        Index("uq_user_email", "email", unique=True),
        Index(
            "ix_user_tokens_revoked_xid",
            "tokens_revoked_xid",
            postgresql_where=text("tokens_revoked_xid IS NOT NULL"),
        ),
        Index(
            "ix_user_tokens_revoked_at",
            "tokens_revoked_at",
            postgresql_where=text("tokens_revoked_at IS NOT NULL"),
        ),
    )

    id: uuid.UUID = Field(primary_key=True)
    hashed_password: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=timestamp_column())
    # Tokens carry the generation they were issued in; a password change or log-out
    # everywhere increments it, which revokes every token (and device token) issued before.
    token_generation: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    tokens_revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # The revoking transaction's id (pg_current_xact_id): workers read the revocations made
    # since their last read by transaction id, which no commit order can make them miss.
    tokens_revoked_xid: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires")
    device_token: str = Field(
        description="Send it back as `device_token` (or keep the `aido_device` cookie) on the "
        "next log-in from this device: see the README's log-in limits."
    )
