"""Urgency and same-problem merging: the merge window knows each incident's problem, its
priority as handled now, and the agency that leads it; events may be `raise_priority` (a merged
report raised the case's priority) and `split` (an operator took a report out of the case).

Rows already in the window (at most the merge window's 30 minutes of incidents) take their
category as their problem and their incident's priority; the index probes by problem.

Revision ID: 0006_urgency
Revises: 0011_volunteers
Create Date: 2026-12-01 10:00:00
"""

import re
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0006_urgency"
down_revision = "0005_calendar"
branch_labels = None
depends_on = None


MINE = ("raise_priority", "split")


def _actions(change: Callable[[list[str]], list[str]]) -> None:
    """Rewrite the events' action check from the one in the database (whatever other migrations
    added to it), changed by `change`."""
    bind = op.get_bind()
    current = bind.execute(
        sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ck_events_action'")
    ).scalar_one()
    values = change(re.findall(r"'([a-z_]+)'", str(current)))
    op.drop_constraint("ck_events_action", "events", type_="check")
    allowed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint("ck_events_action", "events", f"action IN ({allowed})")


def upgrade() -> None:
    _actions(lambda values: [*values, *(v for v in MINE if v not in values)])
    op.add_column("merge_window", sa.Column("problem", sa.String(length=64), nullable=True))
    op.add_column("merge_window", sa.Column("priority", sa.String(length=2), nullable=True))
    op.add_column("merge_window", sa.Column("lead_department", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE merge_window m SET problem = i.category, priority = i.priority, lead_department = '' "
        "FROM incidents i WHERE i.incident_id = m.incident_id"
    )
    op.execute("DELETE FROM merge_window WHERE problem IS NULL")
    for column in ("problem", "priority", "lead_department"):
        op.alter_column("merge_window", column, nullable=False)
    op.drop_index("ix_merge_window_probe", table_name="merge_window", postgresql_using="gist")
    op.create_index(
        "ix_merge_window_probe",
        "merge_window",
        ["problem", "first_at", "last_at", "geom"],
        unique=False,
        postgresql_using="gist",
    )


def downgrade() -> None:
    op.execute("DELETE FROM events WHERE action IN ('raise_priority', 'split')")
    _actions(lambda values: [v for v in values if v not in MINE])
    op.drop_index("ix_merge_window_probe", table_name="merge_window", postgresql_using="gist")
    op.create_index(
        "ix_merge_window_probe",
        "merge_window",
        ["family", "first_at", "last_at", "geom"],
        unique=False,
        postgresql_using="gist",
    )
    for column in ("lead_department", "priority", "problem"):
        op.drop_column("merge_window", column)
