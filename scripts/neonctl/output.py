"""Printing: JSON for scripts, aligned key/value lines for people. Nothing here sees a password."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def emit_pairs(pairs: dict[str, Any]) -> None:
    width = max((len(k) for k in pairs), default=0)
    for key, value in pairs.items():
        print(f"{key:<{width}}  {'' if value is None else value}")


def emit_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        print("(none)", file=sys.stderr)
        return
    widths = {c: max(len(c), *(len(str(r.get(c) or "")) for r in rows)) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(str(row.get(c) or "").ljust(widths[c]) for c in columns).rstrip())
