"""Log lines: one JSON object (or one readable line) each, with UTC time, level, logger,
message and the request id; structured fields in JSON; tracebacks inside the line."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest

from aido.core.logging import (
    FIELDS,
    JsonFormatter,
    TextFormatter,
    current_request_id,
    fatal_line,
    logging_config,
    utc_timestamp,
)

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("aido.test", logging.WARNING, __file__, 1, message, args, None)
    rec.__dict__.update(extra)
    return rec


def test_a_json_line_has_the_five_keys_and_its_fields() -> None:
    token = current_request_id.set("req-1")
    try:
        line = JsonFormatter().format(
            record("GET %s %d", "/tasks/{task_id}", 200, **{FIELDS: {"status": 200}})
        )
    finally:
        current_request_id.reset(token)
    entry = json.loads(line)
    assert "\n" not in line
    assert ISO_UTC.fullmatch(entry["time"])
    assert entry["level"] == "WARNING" and entry["logger"] == "aido.test"
    assert entry["message"] == "GET /tasks/{task_id} 200"
    assert entry["request_id"] == "req-1" and entry["status"] == 200


def test_outside_a_request_the_id_is_null_and_fields_cannot_replace_the_keys() -> None:
    line = JsonFormatter().format(record("m", **{FIELDS: {"message": "forged", "level": "x"}}))
    entry = json.loads(line)
    assert entry["request_id"] is None
    assert entry["message"] == "m" and entry["level"] == "WARNING"


def test_a_traceback_stays_inside_its_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = record("failed")
        rec.exc_info = sys.exc_info()
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["exc_type"] == "ValueError" and "Traceback" in entry["exc"]


def test_undecodable_text_is_escaped_not_lost() -> None:
    line = JsonFormatter().format(record("path \udce9"))
    assert json.loads(line)["message"] == "path \\udce9"


def test_a_text_line_reads_as_time_level_logger_id_message() -> None:
    token = current_request_id.set("req-2")
    try:
        line = TextFormatter().format(record("hello %s", "there"))
    finally:
        current_request_id.reset(token)
    time, level, logger, rid, message = line.split(" ", 4)
    assert ISO_UTC.fullmatch(time) and (level, logger, rid) == ("WARNING", "aido.test", "[req-2]")
    assert message == "hello there"
    assert TextFormatter().format(record("x")).split(" ")[3] == "[-]"


def test_timestamps_are_utc_to_the_millisecond() -> None:
    assert utc_timestamp(0.25) == "1970-01-01T00:00:00.250Z"
    assert utc_timestamp(86_400.5) == "1970-01-02T00:00:00.500Z"


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_uvicorn_logs_through_the_same_handler_and_its_access_log_is_off(
    log_format: str,
) -> None:
    config = logging_config("DEBUG", log_format)  # type: ignore[arg-type]
    loggers = config["loggers"]
    for name in ("aido", "uvicorn", "uvicorn.error"):
        assert loggers[name] == {"level": "DEBUG", "handlers": [], "propagate": True}
    assert loggers["uvicorn.access"]["propagate"] is False
    assert config["root"] == {"level": "WARNING", "handlers": ["stderr"]}


def test_the_fatal_line_is_bare_text_or_one_json_object() -> None:
    assert fatal_line("configuration error: X", "text") == "configuration error: X"
    entry = json.loads(fatal_line("configuration error: X", "json"))
    assert entry["level"] == "CRITICAL" and entry["message"] == "configuration error: X"
    assert entry["logger"] == "aido.config" and ISO_UTC.fullmatch(entry["time"])
