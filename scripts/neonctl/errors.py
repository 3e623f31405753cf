"""Errors the CLI reports as one line, each kind with its own exit code.

Scripts branch on the exit code; people read the line, which always says what to do next.
Messages never contain a password or the API key.
"""

from __future__ import annotations

import re

# Exit codes (also listed in `scripts/neon --help`).
OK = 0
API_ERROR = 1  # any other API answer (4xx we do not retry, 500 on a write)
USAGE = 2  # argparse uses 2 as well
NO_KEY = 3
AUTH = 4  # key rejected (401/403)
NOT_FOUND = 5
RATE_LIMITED = 6  # 429 past the retry bound
UNAVAILABLE = 7  # 423 (project busy) / 503 / 5xx past the retry bound
NETWORK = 8  # API unreachable: DNS, refused, timeout, TLS
OPERATION_FAILED = 9
TIMEOUT = 10  # operations still running at the wait bound
AMBIGUOUS = 11  # several projects share the name
LOCAL_IO = 12  # cannot read or write a local file
ORG_REQUIRED = 13  # the key needs an organization: --org-id / NEON_ORG_ID
NO_PROGRAM = 14  # a local program scripts/neon runs is missing (psql)
INTERRUPTED = 130

EXIT_CODES = {
    API_ERROR: "API error",
    USAGE: "usage error",
    NO_KEY: "no NEON_API_KEY",
    AUTH: "API key rejected (401/403)",
    NOT_FOUND: "not found",
    RATE_LIMITED: "rate-limited past the retry bound",
    UNAVAILABLE: "busy or unavailable past the retry bound (423/5xx)",
    NETWORK: "API unreachable",
    OPERATION_FAILED: "a Neon operation failed",
    TIMEOUT: "operations did not finish within NEON_MAX_WAIT",
    AMBIGUOUS: "several projects match the name",
    LOCAL_IO: "cannot write or read a local file",
    ORG_REQUIRED: "the API key needs an organization (--org-id / NEON_ORG_ID)",
    NO_PROGRAM: "a program it needs is not installed (psql)",
}

_URL_CREDENTIALS = re.compile(r"(\w[\w+.-]*://[^:/@\s]*):[^@\s]*@")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")


def scrub(text: str) -> str:
    """Remove URL passwords and bearer tokens from text that came from elsewhere."""
    return _BEARER.sub(r"\1***", _URL_CREDENTIALS.sub(r"\1:***@", text))


class NeonError(Exception):
    exit_code = API_ERROR

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(scrub(message))
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(NeonError):
    exit_code = USAGE


class NoKeyError(NeonError):
    exit_code = NO_KEY


class AuthError(NeonError):
    exit_code = AUTH


class NotFoundError(NeonError):
    exit_code = NOT_FOUND


class RateLimitedError(NeonError):
    exit_code = RATE_LIMITED


class UnavailableError(NeonError):
    exit_code = UNAVAILABLE


class NetworkError(NeonError):
    exit_code = NETWORK


class OperationFailedError(NeonError):
    exit_code = OPERATION_FAILED


class WaitTimeoutError(NeonError):
    exit_code = TIMEOUT


class AmbiguousError(NeonError):
    exit_code = AMBIGUOUS


class LocalIOError(NeonError):
    exit_code = LOCAL_IO


class OrgRequiredError(NeonError):
    exit_code = ORG_REQUIRED


class MissingProgramError(NeonError):
    exit_code = NO_PROGRAM
