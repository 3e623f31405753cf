"""Tasks: the request, response and table models."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, StringConstraints
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import Column, ForeignKey, Index, Uuid, text
from sqlmodel import Field, SQLModel

from aido.models.common import timestamp_column

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
IDEMPOTENCY_KEY_MAX = 200


def no_nul(value: str) -> str:
    # Postgres text cannot hold U+0000: refuse it here (422) instead of failing in the driver.
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000) characters")
    return value


NoNul = AfterValidator(no_nul)
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX), NoNul
]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX), NoNul]
SearchText = Annotated[str, NoNul]


class TaskBase(SQLModel):
    title: str = Field(max_length=TITLE_MAX, schema_extra={"examples": ["Buy milk"]})
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX, schema_extra={"examples": ["2 litres"]}
    )
    completed: bool = False


class TaskCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    title: Title = Field(schema_extra={"examples": ["Buy milk"]})
    description: Description | None = Field(default=None, schema_extra={"examples": ["2 litres"]})
    completed: bool = False


class TaskUpdate(SQLModel):
    """Partial update: only the fields sent change; `description: null` clears it."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [{"title": "Buy oat milk"}, {"description": None}, {"completed": True}]
        },
    )

    # title and completed cannot be null (the route answers 422); SkipJsonSchema keeps null
    # out of their OpenAPI schema, which otherwise promised it (found by schemathesis,
    # tests/security/test_fuzz.py). description: null is allowed and clears it.
    title: Title | SkipJsonSchema[None] = None
    description: Description | None = None
    completed: bool | SkipJsonSchema[None] = None


class TaskPublic(TaskBase):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class TaskList(SQLModel):
    items: list[TaskPublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class TaskSort(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TITLE = "title"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class Task(TaskBase, table=True):
    __tablename__ = "task"
    # One index per sort key, each led by owner_id and ending in id (the keyset tie-breaker),
    # so every list query is an index range scan that stops after `limit` rows.
    __table_args__ = (
        Index("ix_task_owner_created", "owner_id", "created_at", "id"),
        Index("ix_task_owner_updated", "owner_id", "updated_at", "id"),
        Index("ix_task_owner_title", "owner_id", "title", "id"),
        Index("ix_task_owner_completed_created", "owner_id", "completed", "created_at", "id"),
        Index(
            "uq_task_owner_idempotency_key",
            "owner_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: uuid.UUID = Field(primary_key=True)
    owner_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    )
    idempotency_key: str | None = Field(default=None, max_length=IDEMPOTENCY_KEY_MAX)
    created_at: datetime = Field(sa_column=timestamp_column())
    updated_at: datetime = Field(sa_column=timestamp_column())
