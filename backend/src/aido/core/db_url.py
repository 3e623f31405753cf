"""DATABASE_URL normalization and redaction.

Neon, hosting platforms and local tools hand out Postgres URLs in several spellings; SQLAlchemy
needs `postgresql+psycopg://` to pick psycopg 3. Everything here is pure string work so it can
be tested without a database and used by scripts that do not import SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

PSYCOPG_SCHEME = "postgresql+psycopg"
_ACCEPTED = {
    "postgres": None,
    "postgresql": None,
    "postgresql+psycopg": None,
    "postgresql+psycopg2": "DATABASE_URL uses postgresql+psycopg2://; rewritten to "
    "postgresql+psycopg:// (this backend runs on psycopg 3)",
}
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}
POOLER_MARK = "-pooler"


class DatabaseUrlError(ValueError):
    """The URL cannot be used; the message never contains the password."""


@dataclass(frozen=True)
class NormalizedUrl:
    url: str
    warnings: tuple[str, ...] = ()


def _is_local(host: str) -> bool:
    # Unix-socket directories and loopback need no TLS; everything else is assumed remote.
    return host in _LOCAL_HOSTS or host.startswith("/") or host.startswith("127.")


def normalize_database_url(raw: str) -> NormalizedUrl:
    """Rewrite any accepted Postgres URL to the psycopg 3 form SQLAlchemy needs."""
    raw = raw.strip()
    if not raw:
        raise DatabaseUrlError("is empty")
    scheme, sep, _ = raw.partition("://")
    if not sep:
        raise DatabaseUrlError(
            "is not a URL (expected postgresql://USER@HOST/DBNAME, with a password)"
        )
    scheme = scheme.lower()
    if scheme not in _ACCEPTED:
        raise DatabaseUrlError(
            f"has scheme {scheme!r}; expected postgres://, postgresql:// or postgresql+psycopg://"
        )
    try:
        parts = urlsplit(PSYCOPG_SCHEME + "://" + raw.split("://", 1)[1])
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a non-numeric port
    except ValueError as exc:
        raise DatabaseUrlError("has a malformed host or port") from exc
    if not parts.path.strip("/"):
        raise DatabaseUrlError("names no database (expected …/dbname at the end)")
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not _is_local(host) and not any(k == "sslmode" for k, _ in query):
        # Remote Postgres (Neon included) must not be reached in clear text.
        query.append(("sslmode", "require"))
    url = urlunsplit(parts._replace(query=urlencode(query, quote_via=quote, safe="/:,")))
    warning = _ACCEPTED[scheme]
    return NormalizedUrl(url=url, warnings=(warning,) if warning else ())


def redact_url(url: str) -> str:
    """`scheme://user:***@host:port/db?…` — the only form in which a URL may be logged."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<unparseable URL>"


def direct_url(url: str) -> str:
    """The URL of the direct (non-pooled) Neon host: PgBouncer in transaction mode breaks
    session state, so migrations and advisory locks go around it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    first, dot, rest = host.partition(".")
    if not first.endswith(POOLER_MARK):
        return url
    new_host = first[: -len(POOLER_MARK)] + dot + rest
    userinfo = ""
    if parts.username is not None:
        userinfo = quote(unquote(parts.username), safe="")
        if parts.password is not None:
            userinfo += ":" + quote(unquote(parts.password), safe="")
        userinfo += "@"
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}{new_host}{port}"))


def libpq_url(url: str) -> str:
    """The same URL as libpq and psycopg take it: `postgresql://` (DATABASE_URL is normalised
    to SQLAlchemy's `postgresql+psycopg://`, which Alembic uses)."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql{sep}{rest}" if scheme.startswith("postgresql") else url


def is_pooled(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host.partition(".")[0].endswith(POOLER_MARK)
