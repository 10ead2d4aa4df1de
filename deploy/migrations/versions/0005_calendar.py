"""Calendar: operator-imported years of the statutory calendar; the deadline_revised event.

Revision ID: 0005_calendar
Revises: 0004_case_flows
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_calendar"
down_revision = "0004_case_flows"
branch_labels = None
depends_on = None

_ACTIONS = (
    "'report', 'register', 'reject', 'dispatch', 'accept', 'arrive', 'resolve', 'return', 'reassign', "
    "'request_extension', 'approve_extension', 'deny_extension', 'park', 'unpark', 'verify', "
    "'fail_verification', 'close', 'reopen', 'merge', 'escalate'"
)


def upgrade() -> None:
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holidays", postgresql.ARRAY(sa.Date()), nullable=False),
        sa.Column("workdays", postgresql.ARRAY(sa.Date()), nullable=False),
        sa.Column("source", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("year"),
    )
    op.drop_constraint("ck_events_action", "events", type_="check")
    op.create_check_constraint("ck_events_action", "events", f"action IN ({_ACTIONS}, 'deadline_revised')")


def downgrade() -> None:
    op.execute("DELETE FROM events WHERE action = 'deadline_revised'")
    op.drop_constraint("ck_events_action", "events", type_="check")
    op.create_check_constraint("ck_events_action", "events", f"action IN ({_ACTIONS})")
    op.drop_table("calendar_years")
