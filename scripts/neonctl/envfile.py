r"""Env files: read them as the app does, write values every reader takes literally.

Three programs read the files `scripts/neon env` writes: Compose v2 (`docker compose
--env-file`), Compose v1.29 (`docker-compose --env-file`, python-dotenv 0.21 inside) and the
app itself (pydantic-settings, python-dotenv 1.x). They agree on less than one would hope:

- single quotes: v2 takes the text literally; python-dotenv decodes `\` and `'` there and
  expands `${NAME}` even inside single quotes (both versions);
- double quotes: all three decode `\` and `"`; v2 also expands `$NAME` and `$$`, which
  python-dotenv keeps as they are; python-dotenv 0.21 takes `\"` for an escaped quote;
- unquoted: v2 expands `$NAME`, and `#` after a space starts a comment.

So a value is written in single quotes when it has no `'` and no backslash, in double quotes
(with `\` and `"`) when it has no `$` and does not end with a backslash, and otherwise not
at all: such a value (`${…}`, or `$` next to a quote or backslash) has no spelling all three
read alike, and `quote` says so (EnvValueError) rather than write something one of them would
change. Connection URLs never hit that case: their user and password are percent-encoded
(urls.to_psycopg).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import tempfile
from pathlib import Path

from .errors import LocalIOError, UsageError

_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
# python-dotenv's grammar for one `KEY=value` statement (dotenv/parser.py), from line start.
_STATEMENT = re.compile(
    r"""[^\S\r\n]*(?:export[^\S\r\n]+)?
        (?P<key>[A-Za-z_][A-Za-z0-9_.]*)[^\S\r\n]*=[^\S\r\n]*
        (?:'(?P<single>(?:\\.|[^'\\])*)'
          |"(?P<double>(?:\\.|[^"\\])*)"
          |(?P<bare>[^\r\n]*))""",
    re.VERBOSE | re.DOTALL,
)
_SINGLE_ESCAPES = re.compile(r"\\[\\']")
_DOUBLE_ESCAPES = re.compile(r"\\[\\'\"abfnrtv]")
# What python-dotenv expands, in any quotes: ${NAME} and ${NAME:-default}.
_EXPANSION = re.compile(r"\$\{[^}:]*(?::-[^}]*)?\}")


class EnvValueError(UsageError):
    """A value that Compose v2, Compose v1 and the app would not all read the same."""


def _decode(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda m: codecs.decode(m.group(0), "unicode-escape"), text)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY -> value as the app's reader (python-dotenv) sees them, without `${…}` expansion.

    A missing file reads as empty. Later lines win, as in python-dotenv.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise LocalIOError(f"cannot read {path}: {exc.strerror}") from None
    values: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        line_end = text.find("\n", pos)
        line_end = len(text) if line_end < 0 else line_end
        match = _STATEMENT.match(text, pos)
        if match is None or text[pos:line_end].lstrip().startswith("#"):
            pos = line_end + 1
            continue
        if match.group("single") is not None:
            value = _decode(_SINGLE_ESCAPES, match.group("single"))
        elif match.group("double") is not None:
            value = _decode(_DOUBLE_ESCAPES, match.group("double"))
        else:
            value = re.sub(r"\s+#.*", "", match.group("bare")).rstrip()
        values[match.group("key")] = value
        # A quoted value may span lines; go on after it (and the rest of its line).
        rest = text.find("\n", match.end())
        pos = len(text) if rest < 0 else rest + 1
    return values


def quote(key: str, value: str) -> str:
    """`value` spelled so that Compose v2, Compose v1 and the app all read it back unchanged."""
    if any(c in value for c in "\r\n\0"):
        raise EnvValueError(f"{key} has a line break, which an env file cannot hold")
    if _EXPANSION.search(value):
        raise EnvValueError(
            f"{key} contains ${{…}}, which Compose v1 and the app's .env reader expand inside "
            "any quotes: change the value"
        )
    if "'" not in value and "\\" not in value:
        return f"'{value}'"
    if value.endswith("\\"):
        # Compose v1's python-dotenv (0.21) takes the escaped backslash before the closing
        # quote for an escaped quote, and reads past the end of the value.
        raise EnvValueError(
            f"{key} ends with a backslash, which Compose v1 misreads: change the value"
        )
    if "$" not in value:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise EnvValueError(
        f"{key} contains $ together with a quote or a backslash, which Compose v2 reads "
        "differently from Compose v1 and the app: change the value"
    )


def update_env_file(path: Path, values: dict[str, str]) -> None:
    """Replace the first line of each key (dropping repeats), append missing keys at the end.

    Values are written with `quote`. The new content goes to a 0600 temporary file in the same
    directory, is flushed to disk, then renamed over the old file, so a reader sees either the
    old file or the new one and the secrets are never readable by other users, not even for
    a moment.
    """
    lines = {key: f"{key}={quote(key, value)}" for key, value in values.items()}
    try:
        old = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    except OSError as exc:
        raise LocalIOError(f"cannot read {path}: {exc.strerror}") from None
    out: list[str] = []
    written: set[str] = set()
    for line in old:
        match = _KEY.match(line)
        key = match.group(1) if match else None
        if key in lines:
            if key not in written:
                out.append(lines[key])
                written.add(key)
            continue
        out.append(line)
    missing = [k for k in lines if k not in written]
    if missing:
        if out and out[-1].strip():
            out.append("")
        out.append("# Neon (written by scripts/neon env)")
        out.extend(lines[k] for k in missing)
    _atomic_write(path, "\n".join(out) + "\n")


def _atomic_write(path: Path, text: str) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)  # mode 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o600)
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        raise LocalIOError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        if tmp_name:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
