"""Connection strings: Neon's `postgresql://…` turned into the psycopg 3 form the backend uses."""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

PSYCOPG_SCHEME = "postgresql+psycopg"
LIBPQ_SCHEME = "postgresql"


def to_psycopg(uri: str) -> str:
    """`postgresql+psycopg://…?sslmode=require&channel_binding=require`.

    Neon's console and neonctl add both parameters. The sslmode the API states is kept (Neon
    states `require`; the test emulator, whose Postgres has no TLS, states `disable`), and
    channel binding is required whenever TLS is in use: it stops a man in the middle from
    relaying the SCRAM exchange. The user and password are percent-encoded in full, so no
    `$`, quote or backslash is left for an env file reader to misread (every URL reader
    decodes them).
    """
    return _rebuild(uri, PSYCOPG_SCHEME, keep_password=True)


def for_psql(uri: str) -> tuple[str, str]:
    """(the libpq URL without its password, the password): psql gets it via PGPASSWORD."""
    parts = _split(uri, LIBPQ_SCHEME)
    return _rebuild(uri, LIBPQ_SCHEME, keep_password=False), unquote(parts.password or "")


def _split(uri: str, scheme: str) -> SplitResult:
    given, sep, rest = uri.partition("://")
    if not sep or given.lower() not in ("postgres", "postgresql", PSYCOPG_SCHEME):
        raise ValueError("the API returned something that is not a postgres:// URI")
    return urlsplit(f"{scheme}://{rest}")


def _rebuild(uri: str, scheme: str, *, keep_password: bool) -> str:
    parts = _split(uri, scheme)
    host = parts.netloc.rpartition("@")[2]
    user = quote(unquote(parts.username or ""), safe="")
    netloc = f"{user}@{host}" if user else host
    if keep_password and parts.password is not None:
        netloc = f"{user}:{quote(unquote(parts.password), safe='')}@{host}"
    parts = parts._replace(netloc=netloc, path=quote(unquote(parts.path), safe="/"))
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.setdefault("sslmode", "require")
    if query["sslmode"] != "disable":
        query.setdefault("channel_binding", "require")
    first = ("sslmode", "channel_binding")
    ordered: list[tuple[str, str]] = [(k, query.pop(k)) for k in first if k in query]
    ordered.extend(query.items())
    encoded = urlencode(ordered, quote_via=quote, safe="/:,")
    return urlunsplit(parts._replace(query=encoded))


def masked(url: str) -> str:
    """The URL with its password replaced by `***`: the form printed unless asked otherwise."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def password_of(url: str) -> str:
    return urlsplit(url).password or ""


def quote_userinfo(value: str) -> str:
    return quote(value, safe="")
