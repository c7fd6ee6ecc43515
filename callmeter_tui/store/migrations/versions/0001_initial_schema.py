"""initial schema (the lead's first cut of models.py)

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 05:45:57.553427
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('read', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project'))
    )
    op.create_table('status_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('accent_color', sa.String(length=7), nullable=False),
    sa.Column('logo_path', sa.String(length=500), nullable=True),
    sa.Column('logo_bytes', sa.LargeBinary(), nullable=True),
    sa.Column('logo_mime', sa.String(length=50), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('bar_days', sa.Integer(), nullable=False),
    sa.Column('refresh_s', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_page')),
    sa.UniqueConstraint('slug', name=op.f('uq_status_page_slug'))
    )
    op.create_table('probe',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('interval_s', sa.Float(), nullable=False),
    sa.Column('timeout_s', sa.Float(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('agent', sa.String(length=100), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=True),
    sa.Column('password_env', sa.String(length=200), nullable=True),
    sa.Column('thresholds', sa.JSON(), nullable=False),
    sa.Column('confirm', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('group', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('state_since', sa.Float(), nullable=True),
    sa.Column('pending_state', sa.String(length=10), nullable=True),
    sa.Column('pending_count', sa.Integer(), nullable=False),
    sa.Column('last_execution_at', sa.Float(), nullable=True),
    sa.Column('last_execution_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_probe_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_probe')),
    sa.UniqueConstraint('name', name=op.f('uq_probe_name'))
    )
    op.create_table('component',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('probe_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['status_page.id'], name=op.f('fk_component_page_id_status_page'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['probe_id'], ['probe.id'], name=op.f('fk_component_probe_id_probe'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_component')),
    sa.UniqueConstraint('page_id', 'position', name=op.f('uq_component_page_id_position'))
    )
    op.create_table('execution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('probe_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('sip_code', sa.Integer(), nullable=True),
    sa.Column('sip_reason', sa.String(length=200), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('breaches', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('agent', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['probe_id'], ['probe.id'], name=op.f('fk_execution_probe_id_probe'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_execution'))
    )
    with op.batch_alter_table('execution', schema=None) as batch_op:
        batch_op.create_index('ix_execution_probe_time', ['probe_id', 'started_at'], unique=False)

    op.create_table('health_span',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('probe_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('ended_at', sa.Float(), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['probe_id'], ['probe.id'], name=op.f('fk_health_span_probe_id_probe'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_span'))
    )
    with op.batch_alter_table('health_span', schema=None) as batch_op:
        batch_op.create_index('ix_span_probe_time', ['probe_id', 'started_at'], unique=False)

    op.create_table('metric_rollup',
    sa.Column('probe_id', sa.Integer(), nullable=False),
    sa.Column('hour_start', sa.Float(), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('min', sa.Float(), nullable=False),
    sa.Column('mean', sa.Float(), nullable=False),
    sa.Column('max', sa.Float(), nullable=False),
    sa.Column('p95', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['probe_id'], ['probe.id'], name=op.f('fk_metric_rollup_probe_id_probe'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('probe_id', 'hour_start', 'metric', name=op.f('pk_metric_rollup'))
    )
    op.create_table('transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('probe_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('previous_state', sa.String(length=10), nullable=False),
    sa.Column('current_state', sa.String(length=10), nullable=False),
    sa.Column('execution_id', sa.Integer(), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('breaches', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['probe_id'], ['probe.id'], name=op.f('fk_transition_probe_id_probe'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transition'))
    )
    with op.batch_alter_table('transition', schema=None) as batch_op:
        batch_op.create_index('ix_transition_probe_time', ['probe_id', 'at'], unique=False)

    op.create_table('webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('probe_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=True),
    sa.Column('secret_env', sa.String(length=200), nullable=True),
    sa.Column('routing_key_env', sa.String(length=200), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('failures_reset_at', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['probe_id'], ['probe.id'], name=op.f('fk_webhook_probe_id_probe'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook')),
    sa.UniqueConstraint('probe_id', 'url', 'format', name=op.f('uq_webhook_probe_id_url_format'))
    )
    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('transition_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.Float(), nullable=False),
    sa.Column('lease_owner', sa.String(length=100), nullable=True),
    sa.Column('lease_until', sa.Float(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['transition_id'], ['transition.id'], name=op.f('fk_delivery_transition_id_transition'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_delivery_webhook_id_webhook'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery')),
    sa.UniqueConstraint('key', name=op.f('uq_delivery_key'))
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('delivery_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], name=op.f('fk_delivery_attempt_delivery_id_delivery'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_delivery_attempt_webhook_id_webhook'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempt'))
    )
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_webhook_time', ['webhook_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_attempt_webhook_time')

    op.drop_table('delivery_attempt')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_due')

    op.drop_table('delivery')
    op.drop_table('webhook')
    with op.batch_alter_table('transition', schema=None) as batch_op:
        batch_op.drop_index('ix_transition_probe_time')

    op.drop_table('transition')
    op.drop_table('metric_rollup')
    with op.batch_alter_table('health_span', schema=None) as batch_op:
        batch_op.drop_index('ix_span_probe_time')

    op.drop_table('health_span')
    with op.batch_alter_table('execution', schema=None) as batch_op:
        batch_op.drop_index('ix_execution_probe_time')

    op.drop_table('execution')
    op.drop_table('component')
    op.drop_table('probe')
    op.drop_table('status_page')
    op.drop_table('project')
    op.drop_table('notification')
