"""Residents close the loop: return visits (回访) after each closing, one per report; the
residents' submissions (tracking-code hashes, and the device and address hashes the rate
limits count).

No lifecycle action is added (a rework reopens with the existing `reopen`), so the events'
action CHECK constraint stays as 0011 left it.

Revision ID: 0012_residents
Revises: 0008_people
Create Date: 2026-12-01 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_residents"
down_revision = "0009_shared_state"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "return_visits",
        sa.Column("visit_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("report_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_ref", sa.Text(), nullable=False),
        sa.Column("closing", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("answer", sa.String(length=24), nullable=True),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("rework", sa.String(length=16), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'answered')", name="ck_return_visits_status"),
        sa.CheckConstraint(
            "answer IS NULL OR answer IN ('satisfied', 'basically_satisfied', 'dissatisfied')",
            name="ck_return_visits_answer",
        ),
        sa.CheckConstraint(
            "rework IS NULL OR rework IN ('same_unit', 'street_center')", name="ck_return_visits_rework"
        ),
        sa.CheckConstraint("(status = 'answered') = (answer IS NOT NULL)", name="ck_return_visits_answered"),
        # no foreign key to incidents: that table is a projection `yiwang rebuild` truncates and
        # refills from the topics (same ids), and the return visits must outlive a rebuild
        sa.PrimaryKeyConstraint("visit_id"),
    )
    op.create_index("ix_return_visits_incident", "return_visits", ["incident_id", "closing"])
    op.create_index("ix_return_visits_report", "return_visits", ["report_id"])
    op.create_index("ix_return_visits_requested", "return_visits", ["requested_at"])
    op.create_table(
        "resident_submissions",
        sa.Column("source_ref", sa.String(length=16), nullable=False),
        sa.Column("report_id", sa.UUID(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("ip_hash", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("source_ref"),
        sa.UniqueConstraint("report_id"),
    )
    op.create_index("ix_resident_submissions_device", "resident_submissions", ["device_hash", "submitted_at"])
    op.create_index("ix_resident_submissions_ip", "resident_submissions", ["ip_hash", "submitted_at"])


def downgrade() -> None:
    op.drop_table("resident_submissions")
    op.drop_table("return_visits")
