"""Node timeouts: flowexec_node_run.deadline_at, indexed with the state for the reconciler

Revision ID: 0003_node_deadline
Revises: 0002_flowexec_tables
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = "0003_node_deadline"
down_revision = "0002_flowexec_tables"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("flowexec_node_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "deadline_at",
                sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mariadb").with_variant(mysql.DATETIME(fsp=6), "mysql"),
                nullable=True,
            )
        )
        batch_op.create_index("ix_flowexec_node_run_state_deadline", ["state", "deadline_at"], unique=False)


def downgrade():
    with op.batch_alter_table("flowexec_node_run", schema=None) as batch_op:
        batch_op.drop_index("ix_flowexec_node_run_state_deadline")
        batch_op.drop_column("deadline_at")
