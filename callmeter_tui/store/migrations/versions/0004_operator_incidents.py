"""operator incidents: title, impact, status, affected components and timestamped updates

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("impact", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("postmortem", sa.Text(), nullable=True),
        sa.Column("auto_probe_id", sa.Integer(), nullable=True),
        sa.Column("auto_started_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("resolved_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["page_id"], ["status_page.id"], name=op.f("fk_operator_incident_page_id_status_page"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["auto_probe_id"], ["probe.id"], name=op.f("fk_operator_incident_auto_probe_id_probe"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_incident")),
    )
    op.create_index("ix_operator_incident_page_time", "operator_incident", ["page_id", "created_at"], unique=False)
    op.create_table(
        "incident_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["operator_incident.id"],
            name=op.f("fk_incident_update_incident_id_operator_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_update")),
    )
    op.create_index("ix_incident_update_incident", "incident_update", ["incident_id", "created_at"], unique=False)
    op.create_table(
        "incident_component",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("probe_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["operator_incident.id"],
            name=op.f("fk_incident_component_incident_id_operator_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["probe_id"], ["probe.id"], name=op.f("fk_incident_component_probe_id_probe"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("incident_id", "probe_id", name=op.f("pk_incident_component")),
    )


def downgrade() -> None:
    op.drop_table("incident_component")
    op.drop_index("ix_incident_update_incident", table_name="incident_update")
    op.drop_table("incident_update")
    op.drop_index("ix_operator_incident_page_time", table_name="operator_incident")
    op.drop_table("operator_incident")
