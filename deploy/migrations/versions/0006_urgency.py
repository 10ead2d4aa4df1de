"""Urgency and same-problem merging: the merge window knows each incident's problem, its
priority as handled now, and the agency that leads it; events may be `raise_priority` (a merged
report raised the case's priority) and `split` (an operator took a report out of the case).

Rows already in the window (at most the merge window's 30 minutes of incidents) take their
category as their problem and their incident's priority; the index probes by problem.

Revision ID: 0006_urgency
Revises: 0004_case_flows
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_urgency"
down_revision = "0004_case_flows"
branch_labels = None
depends_on = None


OLD_ACTIONS = (
    "report", "register", "reject", "dispatch", "accept", "arrive", "resolve", "return", "reassign",
    "request_extension", "approve_extension", "deny_extension", "park", "unpark", "verify",
    "fail_verification", "close", "reopen", "merge", "escalate",
)  # fmt: skip
NEW_ACTIONS = (*OLD_ACTIONS, "raise_priority", "split")


def _actions(values: tuple[str, ...]) -> None:
    op.drop_constraint("ck_events_action", "events", type_="check")
    allowed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint("ck_events_action", "events", f"action IN ({allowed})")


def upgrade() -> None:
    _actions(NEW_ACTIONS)
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
    _actions(OLD_ACTIONS)
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
