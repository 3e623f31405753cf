"""Tasks: the request, response and table models."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, LargeBinary, Uuid, func, text
from sqlmodel import Field, SQLModel

from aido.models.common import timestamp_column

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
IDEMPOTENCY_KEY_MAX = 200


# Postgres text cannot hold U+0000: refuse it as invalid input (422), not in the driver (500).
NO_NUL = r"^[^\x00]*$"
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX, pattern=NO_NUL),
]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX, pattern=NO_NUL)]


class TaskBase(SQLModel):
    title: str = Field(max_length=TITLE_MAX, schema_extra={"examples": ["Buy milk"]})
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX, schema_extra={"examples": ["2 litres"]}
    )
    completed: bool = False


class TaskCreate(BaseModel):
    # pydantic's BaseModel, not SQLModel: SQLModel's __new__ takes `cls`, so a body with a
    # "cls" key was a 500 (TypeError) instead of the 422 every other unknown key gets.
    model_config = ConfigDict(extra="forbid")

    title: Title = pydantic.Field(examples=["Buy milk"])
    description: Description | None = pydantic.Field(default=None, examples=["2 litres"])
    completed: bool = False


def _not_null(schema: dict[str, Any]) -> None:
    """Document only the non-null branch of an optional field that must not be sent as null."""
    any_of = schema.pop("anyOf", None)
    if any_of:
        schema.update(next(s for s in any_of if s.get("type") != "null"))


class TaskUpdate(BaseModel):
    """Partial update: only the fields sent change; `description: null` clears it."""

    # A BaseModel for the reason TaskCreate is one.

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"title": "Buy oat milk"}, {"description": None}, {"completed": True}]
        },
    )

    # title and completed cannot be null (the route answers 422); _not_null keeps null out of
    # their OpenAPI schema, which otherwise promised it (found by schemathesis,
    # tests/security/test_fuzz.py). Validation stays `X | None` (not a union with
    # SkipJsonSchema[None]), so errors name the field alone, without a branch tag and a second
    # "Input should be None" entry. description: null is allowed and clears it.
    title: Title | None = pydantic.Field(default=None, json_schema_extra=_not_null)
    description: Description | None = None
    completed: bool | None = pydantic.Field(default=None, json_schema_extra=_not_null)

    @field_validator("title", "completed")
    @classmethod
    def _refuse_null(cls, value: object, info: ValidationInfo) -> object:
        # Runs only for fields that were sent (defaults are not validated): an explicit null.
        if value is None:
            raise PydanticCustomError(
                "null_not_allowed", "{field} cannot be null", {"field": info.field_name}
            )
        return value


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


LIST_LIMIT_DEFAULT = 20
LIST_LIMIT_MAX = 100


class TaskListQuery(BaseModel):
    """The query parameters of GET /tasks, validated as one model.

    FastAPI validates separate query parameters one by one; as one model they cost a single
    pydantic call, which on the list path was half the price of FastAPI's dependency solving
    (bench/README.md). Unknown parameters are ignored, as they were. (pydantic's Field, not
    SQLModel's, which would drop `pattern` on a plain BaseModel.)
    """

    limit: int = pydantic.Field(default=LIST_LIMIT_DEFAULT, ge=1, le=LIST_LIMIT_MAX)
    cursor: str | None = pydantic.Field(
        default=None,
        max_length=512,
        description="`next_cursor` of the previous page, with the same `sort` and `order`",
    )
    completed: bool | None = None
    q: str | None = pydantic.Field(
        default=None,
        max_length=200,
        pattern=NO_NUL,
        description="Case-insensitive text in title or description",
    )
    sort: TaskSort = TaskSort.CREATED_AT
    order: SortOrder = SortOrder.DESC


class Task(TaskBase, table=True):
    __tablename__ = "task"
    # One index per sort key, each led by owner_id and ending in id (the keyset tie-breaker),
    # so every list query is an index range scan that stops after `limit` rows.
    __table_args__ = (
        Index("ix_task_owner_created", "owner_id", "created_at", "id"),
        Index("ix_task_owner_updated", "owner_id", "updated_at", "id"),
        Index("ix_task_owner_title", "owner_id", "title", "id"),
        Index("ix_task_owner_completed_created", "owner_id", "completed", "created_at", "id"),
        # Serves `q` (ILIKE '%…%' on title or description) within one owner's tasks: btree_gin
        # puts owner_id in the same GIN index as the trigrams (migration 0003).
        Index(
            "ix_task_owner_search",
            "owner_id",
            "title",
            "description",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops", "description": "gin_trgm_ops"},
        ),
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
    # SHA-256 of the validated body sent with idempotency_key: a reuse of the key with another
    # body is refused (422) instead of replaying a task that is not what was asked for.
    idempotency_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime = Field(sa_column=timestamp_column())
    updated_at: datetime = Field(sa_column=timestamp_column())


class TaskQuota(SQLModel, table=True):
    """Per owner: how many tasks exist (kept exact by triggers on task, migration 0003) and
    the current fixed window of creates, both read and updated by the insert of POST /tasks."""

    __tablename__ = "task_quota"

    owner_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    tasks: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    window_started_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    window_creates: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
