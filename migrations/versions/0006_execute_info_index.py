"""dss_workflow_execute_info: index on (flow_id, version), which every node transition reads

Revision ID: 0006_execute_info_index
Revises: 0005_engine_slots
Create Date: 2026-11-25

"""
from alembic import op

revision = "0006_execute_info_index"
down_revision = "0005_engine_slots"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dss_workflow_execute_info", schema=None) as batch_op:
        batch_op.create_index("ix_dss_workflow_execute_info_flow_version", ["flow_id", "version"], unique=False)


def downgrade():
    with op.batch_alter_table("dss_workflow_execute_info", schema=None) as batch_op:
        batch_op.drop_index("ix_dss_workflow_execute_info_flow_version")
