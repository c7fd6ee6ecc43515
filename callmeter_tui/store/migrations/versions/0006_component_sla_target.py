"""each status page component may carry a monthly SLA target (percent) for SLA reports

Revision ID: 0006
Revises: 0003 (branch sla; at merge, chain it after the last migration of the other branches)
Create Date: 2026-12-01 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("component", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_target", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("component", schema=None) as batch_op:
        batch_op.drop_column("sla_target")
