"""Return-visit results: 未回访成功 stored by the sweep (status `not_reached`), and `told_at`,
the outbox marker of the 回访结果 that goes back to 12345 (NULL: still to send).

Visits answered before this migration had their 回访结果 sent (or dropped) at the time: they are
marked told, so the relay does not send old results again.

Revision ID: 0019_revisit_results
Revises: 0007_hot_columns
Create Date: 2026-12-01 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_revisit_results"
down_revision = "0007_hot_columns"  # chained after main's head
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_return_visits_status", "return_visits", type_="check")
    op.create_check_constraint(
        "ck_return_visits_status", "return_visits", "status IN ('pending', 'answered', 'not_reached')"
    )
    op.add_column("return_visits", sa.Column("told_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE return_visits SET told_at = answered_at WHERE status = 'answered'")
    op.create_index(
        "ix_return_visits_due", "return_visits", ["due_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index(
        "ix_return_visits_untold",
        "return_visits",
        ["source"],
        postgresql_where=sa.text("told_at IS NULL AND status <> 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_return_visits_untold", "return_visits")
    op.drop_index("ix_return_visits_due", "return_visits")
    op.drop_column("return_visits", "told_at")
    op.execute("UPDATE return_visits SET status = 'pending' WHERE status = 'not_reached'")
    op.drop_constraint("ck_return_visits_status", "return_visits", type_="check")
    op.create_check_constraint(
        "ck_return_visits_status", "return_visits", "status IN ('pending', 'answered')"
    )
