"""``bml``: upload, updateVersion, download, getVersions; and ``filesystem/openScriptFromBML``."""

from __future__ import annotations

import json

from flask import Response
from flask import g
from flask import request

from gateway.bml import DownloadError
from gateway.context import Route
from gateway.context import current
from gateway.envelope import reply
from gateway.protocol import Refusal
from gateway.protocol import now_ms

ERR_PARAM = 78361


def _file() -> bytes:
    part = request.files.get("file")
    if part is None:
        raise Refusal("file is required: send it as the multipart part 'file'", ERR_PARAM)
    content: bytes = part.read()
    return content


def _text(name: str) -> str | None:
    value = request.form.get(name)
    return value.strip() if value and value.strip() else None


def upload_view() -> Response:
    content = _file()
    data = current().bml.upload(g.user, content, _text("resourceId"), _text("version"))
    return reply(
        0, "The task of submitting and uploading resources was successful(提交上传资源任务成功)", data
    )


def update_version_view() -> Response:
    resource_id = _text("resourceId")
    if resource_id is None:
        raise Refusal("resourceId is required", ERR_PARAM)
    content = _file()
    data = current().bml.update_version(g.user, resource_id, content)
    return reply(0, "The update resource task was submitted successfully(提交更新资源任务成功)", data)


def download_view() -> Response:
    resource_id = request.args.get("resourceId") or ""
    try:
        content = current().bml.download(g.user, resource_id, request.args.get("version") or None)
    except DownloadError as exc:
        # ``download`` returns void in Linkis: its errors are Spring's, not the envelope.
        body = {"timestamp": now_ms(), "status": 500, "error": "Internal Server Error",
                "message": f"errCode: {exc.err_code}, desc: {exc.message}", "path": request.path}  # fmt: skip
        return Response(json.dumps(body, ensure_ascii=False), status=500, content_type="application/json")
    return Response(
        content,
        status=200,
        content_type="application/x-msdownload",
        headers={"Content-Disposition": "attachment"},
    )


def _page_arg(name: str, default: int) -> int:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def get_versions_view() -> Response:
    resource_id = request.args.get("resourceId") or ""
    stored = current().bml.versions(resource_id)
    if not stored:
        raise Refusal("The ResourceID you submitted is invalid (您提交的resourceId无效)", ERR_PARAM)
    page, size = _page_arg("currentPage", 1), _page_arg("pageSize", 10)
    chunk = stored[(page - 1) * size : page * size]
    if not chunk:
        raise Refusal("Failed to get version information correctly(未能正确获取到版本信息)", status=2)
    versions = [{"version": s.version, "resource": "file://" + str(s.path)} for s in chunk]
    data = {"resourceId": resource_id, "user": g.user, "versions": versions}
    return reply(
        0, "Version information obtained successfully (成功获取版本信息)", {"ResourceVersions": data}
    )


def open_script_view() -> Response:
    resource_id = request.args.get("resourceId") or ""
    file_name = request.args.get("fileName") or "test.sql"
    data = current().bml.open_script(resource_id, request.args.get("version") or None, file_name)
    return reply(0, "OK", data)


ROUTES: tuple[Route, ...] = (
    ("/bml/upload", ("POST",), upload_view),
    ("/bml/updateVersion", ("POST",), update_version_view),
    ("/bml/download", ("GET",), download_view),
    ("/bml/getVersions", ("GET",), get_versions_view),
    ("/filesystem/openScriptFromBML", ("GET",), open_script_view),
)
