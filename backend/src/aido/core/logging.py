"""One log format for the app's lines and uvicorn's, each with the id of its request.

`LOG_FORMAT=json` (the image's default), one JSON object a line:

    {"time":"2026-11-29T21:25:45.375Z","level":"INFO","logger":"aido.access",
     "message":"GET /tasks/{task_id} 200 3.1 ms","request_id":"4f1c…","method":"GET",…}

`LOG_FORMAT=text` (the default elsewhere), the same facts in a line for people:

    2026-11-29T21:25:45.375Z INFO  aido.access [4f1c…] GET /tasks/{task_id} 200 3.1 ms

Times are UTC, ISO 8601, to the millisecond. `request_id` is the request's (null, or `-`,
outside one); a line's structured extras (`log.info(…, extra={FIELDS: {…}})`) become keys of
its JSON object. The app's loggers (`aido.*`) and uvicorn's log at LOG_LEVEL; other libraries
pass their warnings and errors in the same format, not their INFO and DEBUG chatter
(SQLAlchemy's pool and asyncio would drown the log). uvicorn's access log stays off: the app
writes one line per request itself, with the route template (aido.api.request_observer).
"""

from __future__ import annotations

import logging
import logging.config
import time
from contextvars import ContextVar
from typing import Any, Literal

import orjson

LogFormat = Literal["json", "text"]

# Set once per request by the request observer, and read by every line logged in it. Each
# request runs in a task of its own (uvicorn's), so the value ends with the request.
current_request_id: ContextVar[str | None] = ContextVar("aido_request_id", default=None)
# `extra={FIELDS: {...}}`: structured facts of a line (JSON keys; the text line has them in
# its message already).
FIELDS = "fields"
# Keys of every JSON line; a line's FIELDS may not replace them.
_BASE_KEYS = frozenset({"time", "level", "logger", "message", "request_id"})

_second_cache: tuple[int, str] = (-1, "")


def utc_timestamp(created: float) -> str:
    """`2026-11-29T21:25:45.375Z`; the part up to the second is formatted once a second."""
    global _second_cache
    second = int(created)
    cached_second, prefix = _second_cache
    if second != cached_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second_cache = (second, prefix)
    return f"{prefix}.{int((created - second) * 1000):03d}Z"


def _request_id(record: logging.LogRecord) -> str | None:
    return getattr(record, "request_id", None) or current_request_id.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        fields = getattr(record, FIELDS, None)
        if fields:
            entry.update((k, v) for k, v in fields.items() if k not in _BASE_KEYS)
        if record.exc_info:
            entry["exc_type"] = getattr(record.exc_info[0], "__name__", None)
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        try:
            return orjson.dumps(entry, default=str).decode()
        except (TypeError, orjson.JSONEncodeError):
            # A message with lone surrogates (undecodable bytes): escaped rather than lost.
            safe = {k: _escaped(v) for k, v in entry.items()}
            return orjson.dumps(safe, default=str).decode()


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{utc_timestamp(record.created)} {record.levelname:<5} {record.name} "
            f"[{_request_id(record) or '-'}] {record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


FORMATTERS: dict[str, type[logging.Formatter]] = {"json": JsonFormatter, "text": TextFormatter}


def logging_config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: configure_logging applies it, and `python -m aido`
    gives it to uvicorn as `log_config`, which applies it in the supervisor and each worker."""

    def own() -> dict[str, Any]:
        return {"level": level.upper(), "handlers": [], "propagate": True}

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"aido": {"()": f"{__name__}.{FORMATTERS[log_format].__name__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "aido",
            }
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": {
            "aido": own(),
            "uvicorn": own(),
            "uvicorn.error": own(),
            # The app writes the access log (one line per request, with its route template).
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    logging.config.dictConfig(logging_config(level, log_format))
    # Python's own warnings (deprecations) as log lines of the same format.
    logging.captureWarnings(True)


def fatal_line(message: str, log_format: LogFormat, *, logger: str = "aido.config") -> str:
    """The one line that says why the process cannot start, before logging is configured:
    the bare message in text (as people read it in `docker compose up`), a JSON line in json."""
    if log_format == "text":
        return message
    record = logging.makeLogRecord({"name": logger, "levelno": logging.CRITICAL,
                                    "levelname": "CRITICAL", "msg": message})  # fmt: skip
    return JsonFormatter().format(record)
