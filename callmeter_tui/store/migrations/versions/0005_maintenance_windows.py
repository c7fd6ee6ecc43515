"""scheduled maintenance windows; per-page maintenance-as-downtime; webhook holds during maintenance

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maintenance_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("probe_id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("starts_local", sa.String(length=32), nullable=False),
        sa.Column("ends_local", sa.String(length=32), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=True),
        sa.Column("starts_at", sa.Float(), nullable=False),
        sa.Column("ends_at", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("cancelled_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["page_id"], ["status_page.id"], name=op.f("fk_maintenance_window_page_id_status_page"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["probe_id"], ["probe.id"], name=op.f("fk_maintenance_window_probe_id_probe"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_window")),
    )
    op.create_index("ix_maintenance_page", "maintenance_window", ["page_id"], unique=False)
    op.create_index("ix_maintenance_probe", "maintenance_window", ["probe_id"], unique=False)
    with op.batch_alter_table("status_page", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("count_maintenance_as_downtime", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notify_during_maintenance", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("last_notified_state", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("held_since", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.drop_column("held_since")
        batch_op.drop_column("last_notified_state")
        batch_op.drop_column("notify_during_maintenance")
    with op.batch_alter_table("status_page", schema=None) as batch_op:
        batch_op.drop_column("count_maintenance_as_downtime")
    op.drop_index("ix_maintenance_probe", table_name="maintenance_window")
    op.drop_index("ix_maintenance_page", table_name="maintenance_window")
    op.drop_table("maintenance_window")
