"""rollup watermark per probe; why a transition happened when no execution caused it

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_mark",
        sa.Column("probe_id", sa.Integer(), nullable=False),
        sa.Column("rolled_until", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["probe_id"], ["probe.id"], name=op.f("fk_rollup_mark_probe_id_probe"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("probe_id", name=op.f("pk_rollup_mark")),
    )
    with op.batch_alter_table("transition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transition", schema=None) as batch_op:
        batch_op.drop_column("reason")
    op.drop_table("rollup_mark")
