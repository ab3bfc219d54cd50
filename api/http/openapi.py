"""The OpenAPI 3 document, built from the routes and their marshmallow schemas, and its docs page."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import jsonify
from flask import send_file
from marshmallow import Schema

import flowexec
from api.http import replies
from api.http.schemas import MAX_ID

F = TypeVar("F", bound=Callable[..., Any])
ATTR = "__flowexec_openapi__"
ERRORS = {
    400: "invalid request (status 1)",
    401: "not logged in (status -1)",
    403: "not yours (status 3)",
    404: "not found (status 1)",
}
PATH_PARAM = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)>")
#: Path parameters documented with a stricter shape than Flask's converter accepts.
PARAM_SCHEMAS: dict[str, dict[str, Any]] = {
    "exec_id": {
        "type": "string",
        "pattern": r"^exec_id[A-Za-z0-9._-]*_[0-9]+$",
        "description": "execID as returned by execute",
    },
    "task_id": {"type": "integer", "minimum": 0, "maximum": MAX_ID, "description": "taskID"},
    "flow_id": {"type": "integer", "minimum": 0, "maximum": MAX_ID, "description": "flowId"},
    "node_key": {"type": "string", "pattern": r"^[A-Za-z0-9_.:-]{1,128}$", "description": "node id (key)"},
}

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")


def operation(
    summary: str,
    *,
    tags: tuple[str, ...],
    data: type[Schema] | None = None,
    query: Schema | None = None,
    body: Schema | None = None,
    ok: int = 200,
    also: Mapping[int, str] | None = None,
    errors: tuple[int, ...] = (400, 401, 403, 404),
    content: str = "application/json",
    public: bool = False,
) -> Callable[[F], F]:
    """Describe a view for the OpenAPI document (the schemas are the ones the view loads and dumps)."""

    def mark(view: F) -> F:
        setattr(
            view,
            ATTR,
            {
                "summary": summary,
                "tags": tags,
                "data": data,
                "query": query,
                "body": body,
                "ok": ok,
                "also": dict(also or {}),
                "errors": errors,
                "content": content,
                "public": public,
                "doc": (view.__doc__ or "").strip(),
            },
        )
        return view

    return mark


def _envelope_ref(spec: APISpec, data: type[Schema] | None) -> dict[str, Any]:
    name = (data.__name__ if data else "Empty") + "Reply"
    if data is not None and data.__name__ not in spec.components.schemas:
        spec.components.schema(data.__name__, schema=data)
    if name not in spec.components.schemas:
        data_schema: dict[str, Any] = (
            {"$ref": f"#/components/schemas/{data.__name__}"} if data else {"type": "object"}
        )
        spec.components.schema(
            name,
            {
                "type": "object",
                "required": ["method", "status", "message", "data"],
                "properties": {
                    "method": {"type": "string"},
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "data": data_schema,
                },
            },
        )
    return {"$ref": f"#/components/schemas/{name}"}


def _responses(spec: APISpec, doc: dict[str, Any]) -> dict[str, Any]:
    if doc["content"] == "application/json":
        ok_content = {"application/json": {"schema": _envelope_ref(spec, doc["data"])}}
    else:
        ok_content = {doc["content"]: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(doc["ok"]): {"description": "success (status 0)", "content": ok_content}}
    for code, text in doc["also"].items():
        responses[str(code)] = {
            "description": text,
            "content": {"application/json": {"schema": _envelope_ref(spec, doc["data"])}},
        }
    codes = {c: ERRORS[c] for c in doc["errors"] if not (doc["public"] and c in (401, 403))}
    if doc["body"] is not None:
        codes.update({413: "body too large (status 1)", 415: "not JSON (status 1)"})
    error = {"application/json": {"schema": _envelope_ref(spec, replies.ErrorData)}}
    for code, text in codes.items():
        responses[str(code)] = {"description": text, "content": error}
    return responses


def _path_and_params(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for match in PATH_PARAM.finditer(rule):
        name, conv = match.group("name"), match.group("conv")
        schema = PARAM_SCHEMAS.get(name) or (
            {"type": "integer", "minimum": 0} if conv == "int" else {"type": "string", "minLength": 1}
        )
        params.append({"in": "path", "name": name, "required": True, "schema": schema})
    return PATH_PARAM.sub(lambda m: "{" + m.group("name") + "}", rule), params


def _operation(spec: APISpec, doc: dict[str, Any], params: list[dict[str, Any]]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": doc["summary"],
        "tags": list(doc["tags"]),
        "responses": _responses(spec, doc),
    }
    if doc["doc"]:
        op["description"] = doc["doc"]
    if doc["query"] is not None:
        params = [*params, {"in": "query", "schema": doc["query"]}]
    if params:
        op["parameters"] = params
    if doc["body"] is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc["body"]}}}
    if doc["public"]:
        op["security"] = []
    return op


def build_spec(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3 document of every documented route of ``app``."""
    spec = APISpec(
        title="flowexec",
        version=flowexec.__version__,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "DSS FlowExecution-compatible and native flowexec API. Every reply "
            "is Linkis's envelope {method, status, message, data}."
        },
    )
    for name in ("TokenCode", "TokenUser"):
        header = "Token-Code" if name == "TokenCode" else "Token-User"
        spec.components.security_scheme(name, {"type": "apiKey", "in": "header", "name": header})
    spec.options["security"] = [{"TokenCode": [], "TokenUser": []}]
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        doc = getattr(app.view_functions.get(rule.endpoint), ATTR, None)
        if doc is None:
            continue
        path, params = _path_and_params(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(spec, doc, params)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
@operation("This OpenAPI 3 document", tags=("meta",), errors=(), public=True)
def openapi_json() -> Response:
    """The document is built once per app, from the registered routes."""
    cached = current_app.extensions.get("flowexec.openapi")
    if cached is None:
        cached = current_app.extensions["flowexec.openapi"] = build_spec(current_app)
    return jsonify(cached)


DOCS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>flowexec API</title>
<link rel="stylesheet" href="docs/swagger-ui.css"></head>
<body><div id="swagger-ui"><noscript>See <a href="openapi.json">openapi.json</a>.</noscript></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script>
if (window.SwaggerUIBundle) {
  SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui"});
} else {
  fetch("openapi.json").then(r => r.json()).then(spec => {
    const list = Object.entries(spec.paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => `<li><code>${m.toUpperCase()} ${p}</code> ${op.summary}</li>`));
    document.getElementById("swagger-ui").innerHTML = `<h1>${spec.info.title}</h1><ul>${list.join("")}</ul>`;
  });
}
</script></body></html>
"""


@bp.get("/docs")
@operation(
    "The API documentation page (Swagger UI over openapi.json)",
    tags=("meta",),
    errors=(),
    content="text/html",
    public=True,
)
def docs() -> Response:
    return Response(DOCS_PAGE, mimetype="text/html")


def _asset(name: str, mimetype: str) -> Response:
    """Swagger UI's files, served from the installed ``swagger-ui-bundle`` (no CDN, pinned)."""
    from swagger_ui_bundle import swagger_ui_path

    response = send_file(str(swagger_ui_path / name), mimetype=mimetype, max_age=86400)
    return response


@bp.get("/docs/swagger-ui.css")
@operation(
    "Swagger UI's stylesheet (served locally)", tags=("meta",), errors=(), content="text/css", public=True
)
def docs_css() -> Response:
    return _asset("swagger-ui.css", "text/css")


@bp.get("/docs/swagger-ui-bundle.js")
@operation(
    "Swagger UI's script (served locally)", tags=("meta",), errors=(), content="text/javascript", public=True
)
def docs_js() -> Response:
    return _asset("swagger-ui-bundle.js", "text/javascript")
