"""Settings: the environment first, then a `.env` file when there is one (see `env_file`)."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aido.core.db_url import DatabaseUrlError, normalize_database_url, redact_url

log = logging.getLogger("aido.config")

# Unset, tokens are signed with a random secret stored in the database (queries.signing_secret).
MIN_JWT_SECRET_BYTES = 32
# A bearer token for /metrics: long enough that guessing it over the network is hopeless.
MIN_METRICS_TOKEN_BYTES = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# SHA-256 of secrets that have been published (an old development default in this repository's
# history): refused like a short one, because anyone can mint tokens with them.
PUBLISHED_JWT_SECRETS = frozenset(
    {"a44326e2f09c13ebb382c925c8981cfb1e403d0f3860ab702519ada9a7872df4"}
)

PositiveFloat = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(gt=0)]


def env_file(cwd: Path | None = None) -> Path | None:
    """The `.env` to read: AIDO_ENV_FILE when set (empty: none, as the tests run); else the
    `.env` of the current directory, or, inside a checkout, of the nearest directory up to
    and including the checkout's root (the one holding `.git`), so `cd backend && alembic …`
    reads the root `.env`. Outside a checkout (an installed package, the image) only the
    current directory is looked at: a `.env` in some parent is not this app's."""
    override = os.environ.get("AIDO_ENV_FILE")
    if override is not None:
        return Path(override) if override else None
    here = (cwd or Path.cwd()).resolve()
    candidates = [here, *here.parents]
    checkout_root = next((d for d in candidates if (d / ".git").exists()), None)
    searched = candidates[: candidates.index(checkout_root) + 1] if checkout_root else [here]
    return next((d / ".env" for d in searched if (d / ".env").is_file()), None)


def _lowercase(cls: type, value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True)

    DATABASE_URL: str
    # Optional: the direct (non-pooler) URL for migrations; derived from DATABASE_URL if unset.
    DATABASE_DIRECT_URL: str | None = None
    # None: the secret stored in the database, generated there once (see README).
    JWT_SECRET: str | None = None
    JWT_EXPIRE_MINUTES: PositiveInt = 60
    # A worker refuses a revoked token at most this long after the revocation was answered.
    TOKEN_REVOCATION_SECONDS: PositiveFloat = 1.0
    LOGIN_DEVICE_TOKEN_DAYS: PositiveInt = 90
    API_HOST: str = "127.0.0.1"
    API_PORT: Annotated[int, Field(ge=1, le=65535)] = 8000
    FRONTEND_URL: str = "http://localhost:3000"
    LOG_LEVEL: str = "INFO"
    # `json`: one JSON object a line (the image sets it); `text`: readable lines.
    LOG_FORMAT: Literal["json", "text"] = "text"
    # The app's access log: one line per request (health probes and /metrics at DEBUG only).
    ACCESS_LOG: bool = True
    # /metrics (Prometheus) is served only when this is set, to a bearer of this token.
    METRICS_TOKEN: str | None = None

    DB_POOL_SIZE: PositiveInt = 5
    DB_MAX_OVERFLOW: Annotated[int, Field(ge=0)] = 10
    DB_POOL_TIMEOUT: PositiveFloat = 10.0
    # Below Neon's 5-minute idle suspend, so the pool never hands out a connection Neon cut.
    DB_POOL_RECYCLE: PositiveInt = 240
    DB_CONNECT_TIMEOUT: PositiveInt = 10
    # Connections idle longer than this are pinged before use (0 pings every checkout).
    DB_PING_AFTER_IDLE: Annotated[float, Field(ge=0)] = 5.0
    # No longer used: retries last DB_RETRY_MAX_SECONDS, however many attempts that takes.
    # Accepted (with a warning) so an existing .env still starts.
    DB_RETRY_ATTEMPTS: PositiveInt | None = None
    DB_RETRY_MAX_SECONDS: PositiveFloat = 15.0
    # Server-side prepared statements (psycopg's, after 5 executions): `auto` uses them only on
    # a connection proven direct; see aido.db.database._PreparedStatements.
    DB_PREPARED_STATEMENTS: Literal["auto", "on", "off"] = "auto"
    DB_STARTUP_TIMEOUT: PositiveFloat = 60.0

    MAX_BODY_BYTES: PositiveInt = 64 * 1024
    LOGIN_MAX_FAILURES: PositiveInt = 10
    LOGIN_MAX_FAILURES_PER_CLIENT: PositiveInt = 50
    LOGIN_WINDOW_SECONDS: PositiveInt = 60
    LOGIN_MAX_FAILURES_PER_EMAIL: PositiveInt = 100
    LOGIN_EMAIL_WINDOW_SECONDS: PositiveInt = 3600
    SIGNUP_MAX_PER_CLIENT: PositiveInt = 20
    SIGNUP_WINDOW_SECONDS: PositiveInt = 3600
    # Argon2 hashes running at once per process (None: usable CPUs / WEB_CONCURRENCY, at
    # least 1); a request waits up to PASSWORD_HASH_MAX_WAIT_SECONDS for a slot, then 503.
    PASSWORD_HASH_CONCURRENCY: PositiveInt | None = None
    PASSWORD_HASH_MAX_WAIT_SECONDS: PositiveFloat = 2.0
    # Linux: hashes start under SCHED_IDLE (requests take the CPU first) and one still running
    # after a second goes on at this nice value; 0 turns both off (core/password_hashing.py).
    PASSWORD_HASH_NICE: Annotated[int, Field(ge=0, le=19)] = 10
    # uvicorn workers of `python -m aido` (None: the CPU count); also sizes the hashing bound.
    WEB_CONCURRENCY: PositiveInt | None = None
    # Peers whose X-Forwarded-For / -Proto `python -m aido` trusts: addresses or networks,
    # comma-separated, or `*`. Trusting every peer would let any client pick its own address
    # and escape the per-client limits: only a proxy on this host is trusted by default.
    FORWARDED_ALLOW_IPS: str = "127.0.0.1"

    # The HTTP server of `python -m aido` (uvicorn with aido.http_guard): what one connection
    # may hold. The request line and headers must arrive within HTTP_HEADER_TIMEOUT of the
    # connection opening (or of its previous response), the body within HTTP_BODY_TIMEOUT of
    # the headers; an idle keep-alive connection is closed after HTTP_KEEPALIVE_TIMEOUT.
    HTTP_HEADER_TIMEOUT: PositiveFloat = 10.0
    HTTP_BODY_TIMEOUT: PositiveFloat = 10.0
    HTTP_KEEPALIVE_TIMEOUT: PositiveInt = 5
    HTTP_MAX_HEADER_BYTES: Annotated[int, Field(ge=1024)] = 16 * 1024
    # On SIGTERM: requests in flight get this long to finish before they are cancelled.
    HTTP_DRAIN_TIMEOUT: PositiveInt = 20

    # GET /tasks?q=…: cancelled by Postgres after SEARCH_TIMEOUT_SECONDS; at most
    # SEARCH_CONCURRENCY_PER_USER at once per user and worker, others wait up to
    # SEARCH_QUEUE_SECONDS for a slot, then 429.
    SEARCH_TIMEOUT_SECONDS: PositiveFloat = 2.0
    SEARCH_CONCURRENCY_PER_USER: PositiveInt = 1
    SEARCH_QUEUE_SECONDS: Annotated[float, Field(ge=0)] = 5.0

    # Quotas of POST /tasks, per user: tasks held, and creates per fixed window.
    TASKS_MAX_PER_USER: PositiveInt = 10_000
    TASK_CREATES_PER_WINDOW: PositiveInt = 300
    TASK_CREATE_WINDOW_SECONDS: PositiveInt = 60

    @field_validator("DATABASE_URL", "DATABASE_DIRECT_URL")
    @classmethod
    def _normalize_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            normalized = normalize_database_url(value)
        except DatabaseUrlError as exc:
            raise ValueError(str(exc)) from None
        for warning in normalized.warnings:
            log.warning(warning)
        return normalized.url

    @field_validator("DB_RETRY_ATTEMPTS")
    @classmethod
    def _retired_attempts(cls, value: int | None) -> int | None:
        if value is not None:
            log.warning(
                "DB_RETRY_ATTEMPTS is no longer used: retries last DB_RETRY_MAX_SECONDS "
                "(remove it from the environment or .env)"
            )
        return value

    @field_validator("WEB_CONCURRENCY", "PASSWORD_HASH_CONCURRENCY", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("FORWARDED_ALLOW_IPS")
    @classmethod
    def _check_forwarded_allow_ips(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        if not entries:
            raise ValueError("is empty; give proxy addresses or networks, comma-separated, or *")
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    "must be IP addresses or networks (e.g. 10.0.0.0/8), comma-separated, or *"
                ) from None
        return ",".join(entries)

    @field_validator("JWT_SECRET")
    @classmethod
    def _check_secret(cls, value: str | None) -> str | None:
        if not value:
            return None  # `JWT_SECRET=` (as compose passes an empty value) means unset
        if hashlib.sha256(value.encode()).hexdigest() in PUBLISHED_JWT_SECRETS:
            raise ValueError(
                "is a value published in this project's history: anyone can sign tokens with "
                "it; unset it (the database then holds a generated one) or generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        if len(value.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(
                f"is shorter than {MIN_JWT_SECRET_BYTES} bytes; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return value

    @field_validator("LOG_LEVEL")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    _lower_format = field_validator("LOG_FORMAT", mode="before")(_lowercase)

    @field_validator("METRICS_TOKEN")
    @classmethod
    def _check_metrics_token(cls, value: str | None) -> str | None:
        if not value:
            return None  # `METRICS_TOKEN=` (compose passes an empty value) means off
        if len(value.encode()) < MIN_METRICS_TOKEN_BYTES:
            raise ValueError(
                f"is shorter than {MIN_METRICS_TOKEN_BYTES} bytes; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return value

    @field_validator("FRONTEND_URL")
    @classmethod
    def _check_origin(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an origin such as https://app.example.com")
        return value.rstrip("/")

    @property
    def redacted_database_url(self) -> str:
        return redact_url(self.DATABASE_URL)

    @property
    def workers(self) -> int:
        """The uvicorn workers `python -m aido` starts."""
        return self.WEB_CONCURRENCY or os.cpu_count() or 1


class ConfigError(Exception):
    """One line naming the variable and what is wrong with it; never its value."""


def _describe(error: dict[str, Any]) -> str:
    name = ".".join(str(p) for p in error["loc"]) or "settings"
    if error["type"] == "missing":
        return f"{name} is not set (set it in the environment or in .env; see .env.example)"
    message = str(error["msg"]).removeprefix("Value error, ")
    # pydantic's own messages describe the value, never echo it.
    return f"{name} {message}" if not message[:1].isupper() else f"{name}: {message}"


def load_settings() -> Settings:
    try:
        path = env_file()
        return Settings(_env_file=path if path and path.is_file() else None)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        raise ConfigError("configuration error: " + _describe(dict(first))) from None


class _LogFormatOnly(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True)
    LOG_FORMAT: Literal["json", "text"] = "text"

    _lower = field_validator("LOG_FORMAT", mode="before")(_lowercase)


def requested_log_format() -> Literal["json", "text"]:
    """LOG_FORMAT, read alone: the format of the line that says the settings are wrong
    (text when LOG_FORMAT itself is what is wrong)."""
    try:
        path = env_file()
        raw = _LogFormatOnly(_env_file=path if path and path.is_file() else None)
    except ValidationError:
        return "text"
    return raw.LOG_FORMAT


@lru_cache
def get_settings() -> Settings:
    return load_settings()
