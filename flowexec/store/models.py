"""Tables: DSS's two seed tables, exactly, and flowexec's own (prefixed ``flowexec_``)."""

from __future__ import annotations

from datetime import datetime
from datetime import time

from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import Time
from sqlalchemy import UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flowexec.store.db import Base

# bigint(20) AUTO_INCREMENT; SQLite autoincrements only an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# int(1) of dss_workflow_execute_info.status.
TinyStatus = Integer().with_variant(mysql.INTEGER(display_width=1), "mysql", "mariadb")
# Flow definitions and per-node code can exceed TEXT's 64 KiB on MySQL.
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# The node lists of dss_workflow_execute_info: TEXT in DSS's DDL, which 64 KiB caps at about
# 1,700 UUID node ids; MEDIUMTEXT reads the same for DSS's tools and holds any flow.
ListText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
# Microseconds, so that "no child starts before its parents finished" is observable.
Stamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


class WorkflowTask(Base):
    """``dss_workflow_task``: one row per flow execution (``id`` is DSS's taskID)."""

    __tablename__ = "dss_workflow_task"
    __table_args__ = (
        Index("created_time", "created_time"),
        Index("um_user", "um_user"),
        {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance: Mapped[str | None] = mapped_column(String(50))
    exec_id: Mapped[str | None] = mapped_column(String(50))
    um_user: Mapped[str | None] = mapped_column(String(50))
    submit_user: Mapped[str | None] = mapped_column(String(50))
    execution_code: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float | None] = mapped_column(Float)
    log_path: Mapped[str | None] = mapped_column(String(200))
    result_location: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(50))
    created_time: Mapped[datetime | None] = mapped_column(DateTime)
    updated_time: Mapped[datetime | None] = mapped_column(DateTime)
    run_type: Mapped[str | None] = mapped_column(String(50))
    err_code: Mapped[int | None] = mapped_column(Integer)
    err_desc: Mapped[str | None] = mapped_column(Text)
    execute_application_name: Mapped[str | None] = mapped_column(String(200))
    request_application_name: Mapped[str | None] = mapped_column(String(200))
    script_path: Mapped[str | None] = mapped_column(String(200))
    params: Mapped[str | None] = mapped_column(Text)
    engine_instance: Mapped[str | None] = mapped_column(String(50))
    task_resource: Mapped[str | None] = mapped_column(String(1024))
    engine_start_time: Mapped[time | None] = mapped_column(Time)
    label_json: Mapped[str | None] = mapped_column(String(200))
    #: DSS 1.1.2+ adds it and never fills it: left NULL, as DSS leaves it.
    instance_name: Mapped[str | None] = mapped_column(String(128))


class WorkflowExecuteInfo(Base):
    """``dss_workflow_execute_info``: node lists of the latest execution of a flow version."""

    __tablename__ = "dss_workflow_execute_info"
    __table_args__ = (
        # Not in DSS's DDL: every transition finds its execution's row by flow and version.
        Index("ix_dss_workflow_execute_info_flow_version", "flow_id", "version"),
        {"mysql_engine": "InnoDB", "mysql_charset": "utf8"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[int | None] = mapped_column(TinyStatus)
    flow_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    version: Mapped[str | None] = mapped_column(String(200))
    failed_jobs: Mapped[str | None] = mapped_column(ListText)
    pending_jobs: Mapped[str | None] = mapped_column("Pending_jobs", ListText)
    skipped_jobs: Mapped[str | None] = mapped_column(ListText)
    succeed_jobs: Mapped[str | None] = mapped_column(ListText)
    createtime: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    running_jobs: Mapped[str | None] = mapped_column(ListText)
    updatetime: Mapped[datetime | None] = mapped_column(DateTime)


class FlowVersion(Base):
    """``flowexec_flow_version``: a registered flow definition, so ``{flowId, version}`` resolves."""

    __tablename__ = "flowexec_flow_version"
    __table_args__ = (
        UniqueConstraint("flow_id", "version"),
        {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    flow_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    version: Mapped[str] = mapped_column(String(200), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(LongText, nullable=False)
    scripts: Mapped[str] = mapped_column(LongText, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    source_path: Mapped[str | None] = mapped_column(String(1024))
    created_by: Mapped[str | None] = mapped_column(String(50))
    created_time: Mapped[datetime] = mapped_column(Stamp, nullable=False)


class Execution(Base):
    """``flowexec_execution``: what DSS's task row has no column for, and the run's counters."""

    __tablename__ = "flowexec_execution"
    __table_args__ = ({"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"},)

    task_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("dss_workflow_task.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    flow_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    version: Mapped[str] = mapped_column(String(200), nullable=False)
    strategy: Mapped[str] = mapped_column(String(32), nullable=False)
    node_ids: Mapped[str | None] = mapped_column(Text)
    failure_policy: Mapped[str] = mapped_column(String(32), nullable=False)
    total_nodes: Mapped[int] = mapped_column(Integer, nullable=False)
    settled_nodes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_nodes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    max_parallel: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    started_time: Mapped[datetime] = mapped_column(Stamp, nullable=False)
    finished_time: Mapped[datetime | None] = mapped_column(Stamp)


class NodeRun(Base):
    """``flowexec_node_run``: one row per node per execution; any worker can pick any node up."""

    __tablename__ = "flowexec_node_run"
    __table_args__ = (
        UniqueConstraint("task_id", "node_key"),
        Index("ix_flowexec_node_run_state_queued", "state", "queued_at"),
        Index("ix_flowexec_node_run_state_poll", "state", "next_poll_at"),
        Index("ix_flowexec_node_run_state_deadline", "state", "deadline_at"),
        Index("ix_flowexec_node_run_parked", "parked", "queued_at"),
        {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("dss_workflow_task.id", ondelete="CASCADE"), nullable=False
    )
    node_key: Mapped[str] = mapped_column(String(128), nullable=False)
    title: Mapped[str] = mapped_column(String(128), nullable=False)
    job_type: Mapped[str] = mapped_column(String(128), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    pending_parents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    children: Mapped[str] = mapped_column(LongText, nullable=False)
    spec: Mapped[str | None] = mapped_column(LongText)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retries_left: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    polls: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    linkis_exec_id: Mapped[str | None] = mapped_column(String(255))
    linkis_task_id: Mapped[int | None] = mapped_column(BigInteger)
    log_path: Mapped[str | None] = mapped_column(String(1024))
    result_location: Mapped[str | None] = mapped_column(String(1024))
    progress: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime | None] = mapped_column(Stamp)
    started_at: Mapped[datetime | None] = mapped_column(Stamp)
    finished_at: Mapped[datetime | None] = mapped_column(Stamp)
    next_poll_at: Mapped[datetime | None] = mapped_column(Stamp)
    deadline_at: Mapped[datetime | None] = mapped_column(Stamp)
    updated_at: Mapped[datetime | None] = mapped_column(Stamp)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    parked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=sa_false())
    #: When Linkis first failed to answer this node's submit; cleared once a submit is answered.
    unreachable_since: Mapped[datetime | None] = mapped_column(Stamp)


class IdempotencyKey(Base):
    """``flowexec_idempotency_key``: a user's ``Idempotency-Key`` and the execution it started."""

    __tablename__ = "flowexec_idempotency_key"
    __table_args__ = ({"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"},)

    um_user: Mapped[str] = mapped_column(String(50), primary_key=True)
    idem_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    task_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("dss_workflow_task.id", ondelete="CASCADE"), nullable=False
    )
    created_time: Mapped[datetime] = mapped_column(Stamp, nullable=False)


class EngineSlot(Base):
    """``flowexec_engine_slot``: one row per capped engine, locked while a node of it is claimed."""

    __tablename__ = "flowexec_engine_slot"
    __table_args__ = ({"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"},)

    engine: Mapped[str] = mapped_column(String(64), primary_key=True)
