<%!
    import json

    def literal(value):
        """A revision id (or ids) as ruff format writes it: double quotes."""
        if value is None:
            return "None"
        if isinstance(value, (list, tuple)):
            items = ", ".join(json.dumps(item) for item in value)
            return "(" + items + ("," if len(value) == 1 else "") + ")"
        return json.dumps(value)

    def third_party_imports(extra, upgrades, downgrades):
        """Only the imports the body uses, in ruff's (isort's) order: `import x` lines, then
        `from x import y` lines, each sorted: the file passes scripts/lint as generated."""
        body = "\n".join(part for part in (upgrades, downgrades) if part)
        wanted = {line.strip() for line in (extra or "").splitlines() if line.strip()}
        if "sa." in body:
            wanted.add("import sqlalchemy as sa")
        if "op." in body:
            wanted.add("from alembic import op")
        plain = sorted((line for line in wanted if line.startswith("import ")), key=str.lower)
        froms = sorted((line for line in wanted if line.startswith("from ")), key=str.lower)
        return plain + froms
%>\
<% imports_used = third_party_imports(imports, upgrades, downgrades) %>\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence
% if imports_used:

% for line in imports_used:
${line}
% endfor
% endif

revision: str = ${literal(up_revision)}
down_revision: str | Sequence[str] | None = ${literal(down_revision)}
branch_labels: str | Sequence[str] | None = ${literal(branch_labels)}
depends_on: str | Sequence[str] | None = ${literal(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
