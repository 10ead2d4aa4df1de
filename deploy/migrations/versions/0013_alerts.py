"""CAP messages through their life (`cap_messages`), and the events a source's own word, an
operator's voiding and a redrawn grid layer record: source_update, withdraw, expire, void, rehome.

Revision ID: 0013_alerts
Revises: 0014_board
Create Date: 2026-12-01 13:00:00
"""

import re
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013_alerts"
down_revision = "0019_revisit_results"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
MINE = ("source_update", "withdraw", "expire", "void", "rehome")


def _actions(change: Callable[[list[str]], list[str]]) -> None:
    """Rewrite the events' action check from the one in the database, changed by `change`."""
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
    op.create_table(
        "cap_messages",
        sa.Column("sender", sa.String(length=256), nullable=False),
        sa.Column("identifier", sa.String(length=256), nullable=False),
        sa.Column("msg_type", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("sent", TZ, nullable=False),
        sa.Column("expires", TZ, nullable=True),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("report_id", sa.UUID(), nullable=True),
        sa.Column("incident_id", sa.UUID(), nullable=True),
        sa.Column("record", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "msg_type IN ('Alert', 'Update', 'Cancel', 'Ack', 'Error')", name="ck_cap_messages_msg_type"
        ),
        sa.CheckConstraint(
            "state IN ('active', 'recorded', 'pending', 'applied', 'unresolved', 'expired', 'lapsed')",
            name="ck_cap_messages_state",
        ),
        sa.PrimaryKeyConstraint("sender", "identifier"),
    )
    op.create_index("ix_cap_messages_due", "cap_messages", ["state", "expires"], unique=False)
    op.create_index("ix_cap_messages_report", "cap_messages", ["report_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cap_messages_report", table_name="cap_messages")
    op.drop_index("ix_cap_messages_due", table_name="cap_messages")
    op.drop_table("cap_messages")
    _actions(lambda values: [v for v in values if v not in MINE])
