"""dss_workflow_task.instance_name varchar(128) (DSS 1.1.2+; DSS never fills it, nor does flowexec)

Revision ID: 0010_task_instance_name
Revises: 0009_node_unreachable_since
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

revision = "0010_task_instance_name"
down_revision = "0009_node_unreachable_since"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dss_workflow_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instance_name", sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table("dss_workflow_task", schema=None) as batch_op:
        batch_op.drop_column("instance_name")
