"""Dispatch tables: reports, incidents (cases with their clocks), tasks, events, the merge window.

Generated with Alembic autogenerate from dispatch/models.py, then reviewed;
tests/deploy/test_migrations.py fails when the models and the migrations drift apart.

Revision ID: 0003_dispatch
Revises: 0002_geo
Create Date: 2026-11-26 15:03:06.110557
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_dispatch"
down_revision = "0002_geo"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('incident_id', sa.UUID(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=False),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('task_id', sa.UUID(), nullable=True),
    sa.Column('grid_code', sa.String(length=15), nullable=True),
    sa.Column('street_code', sa.String(length=9), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("action IN ('report', 'register', 'reject', 'dispatch', 'accept', 'arrive', 'resolve', 'return', 'reassign', 'request_extension', 'approve_extension', 'deny_extension', 'park', 'unpark', 'verify', 'fail_verification', 'close', 'reopen', 'merge', 'escalate')", name='ck_events_action'),
    sa.PrimaryKeyConstraint('incident_id', 'sequence')
    )
    op.create_index('ix_events_at', 'events', ['at'], unique=False)
    op.create_index('ix_events_unpublished', 'events', ['at'], unique=False, postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('incidents',
    sa.Column('incident_id', sa.UUID(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=48), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=2), nullable=False),
    sa.Column('agency_led', sa.Boolean(), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('street_code', sa.String(length=9), nullable=True),
    sa.Column('community_code', sa.String(length=12), nullable=True),
    sa.Column('grid_code', sa.String(length=15), nullable=True),
    sa.Column('layer_version', sa.Integer(), nullable=True),
    sa.Column('placement_reason', sa.Text(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('sources', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('first_reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assignee_id', sa.String(length=64), nullable=True),
    sa.Column('current_task_id', sa.UUID(), nullable=True),
    sa.Column('merged_into', sa.UUID(), nullable=True),
    sa.Column('returns', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('reworks', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('reopens', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('case', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('clocks', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('next_sla_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('light', sa.String(length=8), server_default=sa.text("'green'"), nullable=False),
    sa.Column('escalation_level', sa.String(length=16), nullable=True),
    sa.CheckConstraint("light IN ('green', 'yellow', 'red')", name='ck_incidents_light'),
    sa.CheckConstraint("state IN ('reported', 'registered', 'dispatched', 'accepted', 'on_site', 'resolved', 'verified', 'closed', 'returned', 'extension_requested', 'parked', 'rework', 'reopened', 'merged', 'rejected')", name='ck_incidents_state'),
    sa.PrimaryKeyConstraint('incident_id')
    )
    op.create_index('ix_incidents_geom', 'incidents', ['geom'], unique=False, postgresql_using='gist')
    op.create_index('ix_incidents_grid', 'incidents', ['grid_code'], unique=False)
    op.create_index('ix_incidents_next_sla', 'incidents', ['next_sla_at'], unique=False, postgresql_where=sa.text('next_sla_at IS NOT NULL'))
    op.create_index('ix_incidents_state', 'incidents', ['state'], unique=False)
    op.create_index('ix_incidents_street_state', 'incidents', ['street_code', 'state'], unique=False)
    op.create_table('merge_window',
    sa.Column('incident_id', sa.UUID(), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('street_code', sa.String(length=9), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('incident_id')
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")  # trusted: the database owner may create it
    op.create_index('ix_merge_window_probe', 'merge_window', ['family', 'first_at', 'last_at', 'geom'], unique=False,
                    postgresql_using='gist')
    op.create_index('ix_merge_window_last', 'merge_window', ['last_at'], unique=False)
    op.create_table('reports',
    sa.Column('report_id', sa.UUID(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=128), nullable=False),
    sa.Column('incident_id', sa.UUID(), nullable=False),
    sa.Column('merged', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=48), nullable=False),
    sa.Column('priority', sa.String(length=2), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ingested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('crs', sa.String(length=8), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('grid_code', sa.String(length=15), nullable=True),
    sa.Column('placement', sa.String(length=16), nullable=False),
    sa.Column('placement_reason', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('reporter', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('kafka_topic', sa.String(length=128), nullable=True),
    sa.Column('kafka_partition', sa.Integer(), nullable=True),
    sa.Column('kafka_offset', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('report_id'),
    sa.UniqueConstraint('source', 'source_ref', name='uq_reports_source_ref')
    )
    op.create_index('ix_reports_incident', 'reports', ['incident_id'], unique=False)
    op.create_index('ix_reports_ingested', 'reports', ['ingested_at'], unique=False)
    op.create_table('sla_policies',
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('first_used_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('policy_id')
    )
    op.create_table('tasks',
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('incident_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.String(length=64), nullable=False),
    sa.Column('assignee_level', sa.String(length=24), nullable=False),
    sa.Column('assignee_role', sa.String(length=32), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=True),
    sa.Column('street_code', sa.String(length=9), nullable=True),
    sa.Column('routing_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('photos', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.CheckConstraint("kind IN ('main', 'assist')", name='ck_tasks_kind'),
    sa.CheckConstraint("status IN ('active', 'done', 'returned', 'reassigned', 'cancelled')", name='ck_tasks_status'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.incident_id'], ),
    sa.PrimaryKeyConstraint('task_id')
    )
    op.create_index('ix_tasks_assignee_active', 'tasks', ['assignee_id'], unique=False, postgresql_where=sa.text("status = 'active'"))
    op.create_index('ix_tasks_incident', 'tasks', ['incident_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tasks_incident', table_name='tasks')
    op.drop_index('ix_tasks_assignee_active', table_name='tasks', postgresql_where=sa.text("status = 'active'"))
    op.drop_table('tasks')
    op.drop_table('sla_policies')
    op.drop_index('ix_reports_ingested', table_name='reports')
    op.drop_index('ix_reports_incident', table_name='reports')
    op.drop_table('reports')
    op.drop_index('ix_merge_window_last', table_name='merge_window')
    op.drop_index('ix_merge_window_probe', table_name='merge_window', postgresql_using='gist')
    op.drop_table('merge_window')
    op.drop_index('ix_incidents_street_state', table_name='incidents')
    op.drop_index('ix_incidents_state', table_name='incidents')
    op.drop_index('ix_incidents_next_sla', table_name='incidents', postgresql_where=sa.text('next_sla_at IS NOT NULL'))
    op.drop_index('ix_incidents_grid', table_name='incidents')
    op.drop_index('ix_incidents_geom', table_name='incidents', postgresql_using='gist')
    op.drop_table('incidents')
    op.drop_index('ix_events_unpublished', table_name='events', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_index('ix_events_at', table_name='events')
    op.drop_table('events')
