"""A tenant's source names are unique: ``uq_sources_tenant_id_name`` on ``sources``.

Simultaneous registrations could once store one name several times (the route checked, then
inserted). Before the constraint is added, every later duplicate (by ``created``, then id) is
renamed ``<name>-dup<N>`` (cut to fit 40 characters, and a free name) and marked ``failed``
with an error saying so; the first keeps its name and state. Renamed rows are failed because
the builds of one name all wrote the same artifact folder (``sources/<tenant>/<name>``), which
now belongs to the first: nothing is deleted, and the tenant sees what happened in
``GET /v1/sources``. The downgrade drops the constraint; renamed rows keep their new names.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CONSTRAINT = "uq_sources_tenant_id_name"
NAME_CHARS = 40  # sources.name is String(40)

SOURCES = sa.table(
    "sources",
    sa.column("id", sa.String),
    sa.column("tenant_id", sa.String),
    sa.column("name", sa.String),
    sa.column("state", sa.String),
    sa.column("error", sa.String),
    sa.column("created", sa.DateTime),
)


def free_name(name: str, taken: set[str]) -> str:
    """``<name>-dup<N>`` for the smallest N not in ``taken``, cut to 40 characters."""
    number = 1
    while True:
        suffix = f"-dup{number}"
        candidate = name[: NAME_CHARS - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


def rename_duplicates(connection: sa.Connection) -> int:
    """Rename and fail every later duplicate of a tenant's source name; how many."""
    rows = connection.execute(
        sa.select(SOURCES.c.id, SOURCES.c.tenant_id, SOURCES.c.name).order_by(
            SOURCES.c.tenant_id, SOURCES.c.created, SOURCES.c.id
        )
    ).all()
    taken: dict[str, set[str]] = {}
    for row in rows:
        taken.setdefault(row.tenant_id, set()).add(row.name)
    seen: set[tuple[str, str]] = set()
    renamed = 0
    for row in rows:
        if (row.tenant_id, row.name) not in seen:
            seen.add((row.tenant_id, row.name))
            continue
        new = free_name(row.name, taken[row.tenant_id])
        taken[row.tenant_id].add(new)
        error = (
            f"[source.exists] Registered as {row.name!r} while another source of that name "
            f"was; renamed {new!r} by migration 0006 (names are unique). Its build shared the "
            f"files of {row.name!r}: register it again under a new name."
        )
        connection.execute(
            SOURCES.update()
            .where(SOURCES.c.id == row.id)
            .values(name=new, state="failed", error=error)
        )
        renamed += 1
    return renamed


def upgrade() -> None:
    """Rename later duplicates, then add the constraint."""
    rename_duplicates(op.get_bind())
    with op.batch_alter_table("sources") as batch:
        batch.create_unique_constraint(CONSTRAINT, ["tenant_id", "name"])


def downgrade() -> None:
    """Drop the constraint (renamed duplicates keep their names)."""
    with op.batch_alter_table("sources") as batch:
        batch.drop_constraint(CONSTRAINT, type_="unique")
