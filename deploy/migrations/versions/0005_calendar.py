"""Calendar: operator-imported years of the statutory calendar; the deadline_revised event.

Revision ID: 0005_calendar
Revises: 0011_volunteers
Create Date: 2026-12-01 10:00:00
"""

import re

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_calendar"
down_revision = "0011_volunteers"
branch_labels = None
depends_on = None

_REVISED = "deadline_revised"


def _actions_allowed() -> list[str]:
    """The actions the events CHECK allows now, whichever migrations ran before this one."""
    definition = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = 'events' AND c.conname = 'ck_events_action'"
            )
        )
        .scalar_one()
    )
    return list(dict.fromkeys(re.findall(r"'([a-z_]+)'", definition)))


def _allow(actions: list[str]) -> None:
    op.drop_constraint("ck_events_action", "events", type_="check")
    allowed = ", ".join(f"'{a}'" for a in actions)
    op.create_check_constraint("ck_events_action", "events", f"action IN ({allowed})")


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
    _allow([a for a in _actions_allowed() if a != _REVISED] + [_REVISED])


def downgrade() -> None:
    op.execute("DELETE FROM events WHERE action = 'deadline_revised'")
    _allow([a for a in _actions_allowed() if a != _REVISED])
    op.drop_table("calendar_years")
