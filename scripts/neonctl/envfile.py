"""Update KEY=value lines of an env file in place: atomic, mode 0600, other lines untouched."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from .errors import LocalIOError

_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def update_env_file(path: Path, values: dict[str, str]) -> None:
    """Replace the first line of each key (dropping repeats), append missing keys at the end.

    The new content goes to a 0600 temporary file in the same directory, is flushed to disk,
    then renamed over the old file, so a reader sees either the old file or the new one and
    the secrets are never readable by other users, not even for a moment.
    """
    try:
        old = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    except OSError as exc:
        raise LocalIOError(f"cannot read {path}: {exc.strerror}") from None
    out: list[str] = []
    written: set[str] = set()
    for line in old:
        match = _KEY.match(line)
        key = match.group(1) if match else None
        if key in values:
            if key not in written:
                out.append(f"{key}={values[key]}")
                written.add(key)
            continue
        out.append(line)
    missing = [k for k in values if k not in written]
    if missing:
        if out and out[-1].strip():
            out.append("")
        out.append("# Neon (written by scripts/neon env)")
        out.extend(f"{k}={values[k]}" for k in missing)
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
