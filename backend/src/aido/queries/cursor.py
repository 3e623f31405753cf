"""Opaque keyset cursors: the sort, the direction and the last row's (key, id)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any

import orjson

from aido.core.errors import InvalidCursor
from aido.models.task import SortOrder, TaskSort


def encode(sort: TaskSort, order: SortOrder, row: dict[str, Any]) -> str:
    value = row[sort.value]
    raw = orjson.dumps([sort.value, order.value, value, row["id"]])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str, sort: TaskSort, order: SortOrder) -> tuple[Any, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        c_sort, c_order, value, last_id = orjson.loads(raw)
        last = uuid.UUID(last_id)
        key: Any = datetime.fromisoformat(value) if sort is not TaskSort.TITLE else str(value)
        if isinstance(key, str) and "\x00" in key:
            raise ValueError("NUL")  # Postgres text cannot hold it: a forged cursor
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidCursor("Invalid cursor") from None
    if (c_sort, c_order) != (sort.value, order.value):
        raise InvalidCursor("The cursor belongs to another sort or order; start again without it")
    return key, last
