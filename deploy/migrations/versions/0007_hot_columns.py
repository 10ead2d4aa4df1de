"""Narrower hot rows for the intake and the SLA pass: the incident's `case` document keeps only
what no column holds (previous state, who returned it, extension requests, the volunteer);
state, version, sources, assignee, counters and merge target are read from their columns. The
GiST index on `incidents.geom` goes: no query filters incidents by area (merge candidates come
from `merge_window`, which has its own), and every insert paid for it; so does
`ix_reports_ingested` (no query reads reports by ingestion time).

Revision ID: 0007_hot_columns
Revises: 0016_surge
Create Date: 2026-12-01 13:10:00
"""

from alembic import op

revision = "0007_hot_columns"
down_revision = "0014_board"
branch_labels = None
depends_on = None

# the snapshot fields the incident row holds as columns (dispatch.codec.case_columns)
IN_COLUMNS = (
    "case_id",
    "state",
    "street_code",
    "sources",
    "version",
    "updated_at",
    "assignee_id",
    "returns",
    "reworks",
    "reopens",
    "merged_into",
)


def upgrade() -> None:
    op.drop_index("ix_incidents_geom", table_name="incidents", postgresql_using="gist")
    op.drop_index("ix_reports_ingested", table_name="reports")
    keys = ", ".join(f"'{k}'" for k in IN_COLUMNS)
    op.execute(f'UPDATE incidents SET "case" = "case" - ARRAY[{keys}]')


def downgrade() -> None:
    op.execute(
        """UPDATE incidents SET "case" = "case" || jsonb_build_object(
            'case_id', incident_id::text, 'state', state, 'street_code', street_code,
            'sources', to_jsonb(sources), 'version', version, 'updated_at', updated_at,
            'assignee_id', assignee_id, 'returns', returns, 'reworks', reworks, 'reopens', reopens,
            'merged_into', merged_into::text)"""
    )
    op.create_index("ix_incidents_geom", "incidents", ["geom"], postgresql_using="gist")
    op.create_index("ix_reports_ingested", "reports", ["ingested_at"])
