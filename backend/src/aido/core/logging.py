"""Log to stderr in one format; uvicorn keeps its own handlers for access logs."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "INFO") -> None:
    logger = logging.getLogger("aido")
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(handler)
        logger.propagate = False


class PathOnlyAccessLog(logging.Filter):
    """Drops the query string from uvicorn's access log lines.

    A query can carry what must not be logged: a token a client put in the URL, a search
    (`q`) that is personal data, a cursor. The path is enough to tell requests apart.
    uvicorn logs `(client, method, path?query, http_version, status)` as the record's args.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, mark, _ = args[2].partition("?")
            if mark:
                record.args = (*args[:2], path, *args[3:])
        return True


def keep_queries_out_of_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PathOnlyAccessLog) for f in access.filters):
        access.addFilter(PathOnlyAccessLog())
