"""Concurrency caps: flowexec_execution.max_parallel and flowexec_node_run.parked

Revision ID: 0004_concurrency_caps
Revises: 0003_node_deadline
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa

revision = "0004_concurrency_caps"
down_revision = "0003_node_deadline"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("flowexec_execution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_parallel", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("flowexec_node_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parked", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index("ix_flowexec_node_run_parked", ["parked", "queued_at"], unique=False)


def downgrade():
    with op.batch_alter_table("flowexec_node_run", schema=None) as batch_op:
        batch_op.drop_index("ix_flowexec_node_run_parked")
        batch_op.drop_column("parked")
    with op.batch_alter_table("flowexec_execution", schema=None) as batch_op:
        batch_op.drop_column("max_parallel")
