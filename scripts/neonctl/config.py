"""Where the API key, base URL and retry/wait bounds come from.

Every knob is an environment variable so tests (and impatient people) can shorten waits:

NEON_API_KEY         the key; else read from the root `.env` (AIDO_ENV_FILE moves that file,
                     an empty AIDO_ENV_FILE disables it, the same rule the backend follows)
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

from .errors import LocalIOError, NoKeyError, UsageError

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


def load_settings() -> Settings:
    return Settings(
        api_base=(os.environ.get("NEON_API_BASE") or DEFAULT_BASE).rstrip("/"),
        timeout=_number("NEON_TIMEOUT", 30.0, minimum=0.1),
        max_retries=int(_number("NEON_MAX_RETRIES", 6)),
        retry_base=_number("NEON_RETRY_BASE", 0.5),
        retry_cap=_number("NEON_RETRY_CAP", 10.0),
        max_wait=_number("NEON_MAX_WAIT", 300.0),
        poll_interval=_number("NEON_POLL_INTERVAL", 1.0, minimum=0.01),
    )


def dotenv_path() -> Path | None:
    override = os.environ.get("AIDO_ENV_FILE")
    if override is not None:
        return Path(override) if override else None
    return PROJECT_ROOT / ".env"


def _value_from_dotenv(path: Path, key: str) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LocalIOError(f"cannot read {path}: {exc.strerror}") from None
    for line in lines:
        name, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and name.strip() == key:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            return value
    return None


def api_key() -> str:
    key = os.environ.get("NEON_API_KEY", "").strip()
    if not key:
        path = dotenv_path()
        key = (_value_from_dotenv(path, "NEON_API_KEY") or "").strip() if path else ""
    if not key:
        raise NoKeyError(
            "NEON_API_KEY is not set: create a key at https://console.neon.tech/app/settings/"
            "api-keys and export it (or put NEON_API_KEY=… in the root .env)"
        )
    return key
