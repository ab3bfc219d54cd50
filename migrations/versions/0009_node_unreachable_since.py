"""flowexec_node_run.unreachable_since: when Linkis first failed to answer this node's submit

Revision ID: 0009_node_unreachable_since
Revises: 0008_idempotency_key
Create Date: 2026-11-26

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = "0009_node_unreachable_since"
down_revision = "0008_idempotency_key"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("flowexec_node_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "unreachable_since",
                sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mariadb").with_variant(mysql.DATETIME(fsp=6), "mysql"),
                nullable=True,
            )
        )


def downgrade():
    with op.batch_alter_table("flowexec_node_run", schema=None) as batch_op:
        batch_op.drop_column("unreachable_since")
