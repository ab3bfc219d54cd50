"""The OpenAPI document describes every route, and schemathesis finds no 5xx and no violation."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.api.conftest import execute
from tests.api.conftest import headers
from tests.api.conftest import register
from tests.api.conftest import wait_final

SPEC = "/api/v1/openapi.json"
EXAMPLES = 15


def test_document_covers_every_route(client: Any, stack: Any) -> None:
    doc = client.get(SPEC).json
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    for rule in stack.app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("console."):
            continue  # the web console's HTML pages are not part of the REST API
        path = rule.rule.replace("<path:exec_id>", "{exec_id}").replace("<int:task_id>", "{task_id}")
        path = path.replace("<int:flow_id>", "{flow_id}").replace("<node_key>", "{node_key}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, (method, path)
    assert {"Execute", "ExecutionDetailData", "JobItem"} <= set(doc["components"]["schemas"])


def test_docs_page_points_at_the_document(client: Any) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b"openapi.json" in page.data


@pytest.fixture(scope="module")
def api_schema(stack: Any, client: Any) -> Any:
    """The live app's document, with one finished execution so ids can hit real rows."""
    register(client, "diamond.json", 1)
    exec_id, task_id = execute(client, 1)
    wait_final(client, exec_id, task_id)
    schema = schemathesis.openapi.from_wsgi(SPEC, stack.app)
    return schema, {"exec_id": exec_id, "task_id": task_id, "flow_id": 1, "node_key": "extract_sh"}


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize(
    ("mode", "real_ids"),
    [(GenerationMode.POSITIVE, False), (GenerationMode.POSITIVE, True), (GenerationMode.NEGATIVE, False)],
)
def test_no_server_error_and_replies_conform(api_schema: Any, mode: GenerationMode, real_ids: bool) -> None:
    """Every operation, generated data of both kinds (and once on a real execution's ids), bounded."""
    schema, ids = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        if real_ids and not names:
            continue
        if mode is GenerationMode.NEGATIVE and not (operation.query or operation.body or names):
            continue  # nothing to negate
        fixed = {k: v for k, v in ids.items() if k in names} if real_ids else None

        @given(case=operation.as_strategy(generation_mode=mode, headers=headers(), path_parameters=fixed))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def check(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        check()
