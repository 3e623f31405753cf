"""Where the API key, base URL and retry/wait bounds come from.

Every knob is an environment variable so tests (and impatient people) can shorten waits:

NEON_API_KEY         the key; else read from the root `.env` (AIDO_ENV_FILE moves that file,
                     an empty AIDO_ENV_FILE disables it, the same rule the backend follows)
NEON_ORG_ID          the organization to list and create projects in (--org-id wins); else
                     the root `.env`; unset, Neon infers it (organization keys) or
                     scripts/neon picks the key's only one
NEON_API_BASE        default https://console.neon.tech/api/v2
NEON_TIMEOUT         seconds per HTTP request (default 30)
NEON_MAX_RETRIES     retries of a 423/429/503 answer (default 6)
NEON_RETRY_BASE      first backoff in seconds (default 0.5); full jitter, doubling
NEON_RETRY_CAP       longest single backoff or honoured Retry-After (default 10)
NEON_MAX_WAIT        bound on waiting for operations, seconds (default 300)
NEON_POLL_INTERVAL   seconds between operation polls (default 1)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .envfile import read_env_file
from .errors import NoKeyError, UsageError

DEFAULT_BASE = "https://console.neon.tech/api/v2"
# scripts/neonctl/config.py -> the repository root.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    api_base: str
    timeout: float
    max_retries: int
    retry_base: float
    retry_cap: float
    max_wait: float
    poll_interval: float
    org_id: str | None = None


def _number(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{name} must be a number of seconds (got {raw!r})") from None
    if value < minimum:
        raise UsageError(f"{name} must be at least {minimum:g}")
    return value


def load_settings(org_id: str | None = None) -> Settings:
    return Settings(
        api_base=(os.environ.get("NEON_API_BASE") or DEFAULT_BASE).rstrip("/"),
        timeout=_number("NEON_TIMEOUT", 30.0, minimum=0.1),
        max_retries=int(_number("NEON_MAX_RETRIES", 6)),
        retry_base=_number("NEON_RETRY_BASE", 0.5),
        retry_cap=_number("NEON_RETRY_CAP", 10.0),
        max_wait=_number("NEON_MAX_WAIT", 300.0),
        poll_interval=_number("NEON_POLL_INTERVAL", 1.0, minimum=0.01),
        org_id=org_id or setting_from_env_or_dotenv("NEON_ORG_ID"),
    )


def dotenv_path() -> Path | None:
    override = os.environ.get("AIDO_ENV_FILE")
    if override is not None:
        return Path(override) if override else None
    return PROJECT_ROOT / ".env"


def setting_from_env_or_dotenv(name: str) -> str | None:
    """The environment's value, else the root .env's (read as the app reads it), else None."""
    value = os.environ.get(name, "").strip()
    if not value:
        path = dotenv_path()
        value = read_env_file(path).get(name, "").strip() if path else ""
    return value or None


def api_key() -> str:
    key = setting_from_env_or_dotenv("NEON_API_KEY")
    if not key:
        raise NoKeyError(
            "NEON_API_KEY is not set: create a key at https://console.neon.tech/app/settings/"
            "api-keys and export it (or put NEON_API_KEY=… in the root .env)"
        )
    return key
