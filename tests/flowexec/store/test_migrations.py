"""The migrations are the schema: one head, up/down/up on MariaDB, no drift from the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade
from flask_migrate import upgrade

from api.app import create_app
from api.app import migrations_dir
from api.extensions import db

SEED_TASK_COLUMNS = [
    "id",
    "instance",
    "exec_id",
    "um_user",
    "submit_user",
    "execution_code",
    "progress",
    "log_path",
    "result_location",
    "status",
    "created_time",
    "updated_time",
    "run_type",
    "err_code",
    "err_desc",
    "execute_application_name",
    "request_application_name",
    "script_path",
    "params",
    "engine_instance",
    "task_resource",
    "engine_start_time",
    "label_json",
    "instance_name",
]
SEED_INFO_COLUMNS = [
    "id",
    "task_id",
    "status",
    "flow_id",
    "version",
    "failed_jobs",
    "Pending_jobs",
    "skipped_jobs",
    "succeed_jobs",
    "createtime",
    "running_jobs",
    "updatetime",
]


def test_single_head() -> None:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", migrations_dir())
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


@pytest.fixture
def scratch_mysql(mysql_url: str) -> Iterator[str]:
    """A database of its own, so that downgrading does not disturb other tests."""
    name = "flowexec_migrations_test"
    admin = sa.create_engine(mysql_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    yield mysql_url.rsplit("/", 1)[0] + "/" + name
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


def _tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def _diff(app: Flask) -> list[object]:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


@pytest.mark.integration
def test_upgrade_downgrade_upgrade_on_mariadb(scratch_mysql: str) -> None:
    app = create_app({"database_url": scratch_mysql, "broker_url": "memory://"})
    expected = {
        "dss_workflow_task",
        "dss_workflow_execute_info",
        "flowexec_flow_version",
        "flowexec_engine_slot",
        "flowexec_execution",
        "flowexec_idempotency_key",
        "flowexec_node_run",
    }
    with app.app_context():
        upgrade(directory=migrations_dir())
    assert _tables(app) == expected
    assert _diff(app) == []
    with app.app_context():
        downgrade(directory=migrations_dir(), revision="base")
    assert _tables(app) == set()
    with app.app_context():
        upgrade(directory=migrations_dir())
    assert _tables(app) == expected
    with app.app_context():
        inspector = sa.inspect(db.engine)
        assert [c["name"] for c in inspector.get_columns("dss_workflow_task")] == SEED_TASK_COLUMNS
        assert [c["name"] for c in inspector.get_columns("dss_workflow_execute_info")] == SEED_INFO_COLUMNS
        assert {i["name"] for i in inspector.get_indexes("dss_workflow_task")} == {"created_time", "um_user"}
        with db.engine.connect() as conn:
            task_ddl = conn.execute(sa.text("SHOW CREATE TABLE dss_workflow_task")).one()[1]
            info_ddl = conn.execute(sa.text("SHOW CREATE TABLE dss_workflow_execute_info")).one()[1]
    for fragment in (
        "`id` bigint(20) NOT NULL AUTO_INCREMENT",
        "`exec_id` varchar(50)",
        "`progress` float",
        "`err_code` int(11)",
        "`engine_start_time` time",
        "`task_resource` varchar(1024)",
        "`label_json` varchar(200)",
        "`instance_name` varchar(128) DEFAULT NULL",
        "`execution_code` text",
        "CHARSET=utf8mb4",
    ):
        assert fragment in task_ddl, fragment
    for fragment in (
        "`task_id` bigint(20) NOT NULL",
        "`status` int(1)",
        "`Pending_jobs` mediumtext",
        "`createtime` datetime NOT NULL",
        "CHARSET=utf8",
    ):
        assert fragment in info_ddl, fragment


def test_upgrade_on_sqlite_has_no_drift(tmp_path: Path) -> None:
    app = create_app({"home": str(tmp_path), "broker_url": "memory://"})
    with app.app_context():
        upgrade(directory=migrations_dir())
    assert "flowexec_node_run" in _tables(app)
    assert _diff(app) == []
