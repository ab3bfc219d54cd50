"""BML on the local gateway, route by route, as Linkis serves it (linkis-protocol.md §12)."""

from __future__ import annotations

import re
from typing import Any

import requests

from gateway import GatewayServer
from tests.gateway.support import Api

BML = "/api/rest_j/v1/"
SQL = b"--@set target_db=dw\n--conf@set configuration runtime wds.linkis.rm.yarnqueue=q1\nselect 1\n"


def upload(gateway: GatewayServer, content: bytes, user: str = "hadoop", **form: str) -> requests.Response:
    return requests.post(
        gateway.url + BML + "bml/upload",
        files={"file": ("ignored.sql", content)},
        data=form,
        headers={"Token-Code": "LINKIS-AUTH", "Token-User": user},
        timeout=10,
    )


def test_upload_is_multipart_and_assigns_uuid_and_v000001(gateway: GatewayServer) -> None:
    resp = upload(gateway, SQL)
    body = resp.json()
    assert (resp.status_code, body["status"], body["method"]) == (200, 0, "/api/bml/upload")
    data = body["data"]
    assert re.fullmatch(r"[0-9a-f-]{36}", data["resourceId"])
    assert data["version"] == "v000001" and isinstance(data["taskId"], int)


def test_upload_without_file_is_refused_78361(gateway: GatewayServer) -> None:
    resp = requests.post(
        gateway.url + BML + "bml/upload",
        data={"system": "WTSS"},
        headers={"Token-Code": "LINKIS-AUTH", "Token-User": "hadoop"},
        timeout=10,
    )
    assert resp.status_code == 400
    assert resp.json()["data"]["errorMsg"]["errCode"] == 78361


def test_upload_may_seed_the_ids_a_flow_names(gateway: GatewayServer, api: Api) -> None:
    data = upload(gateway, SQL, resourceId="9e7b6a50-b002", version="v000005").json()["data"]
    assert (data["resourceId"], data["version"]) == ("9e7b6a50-b002", "v000005")
    assert upload(gateway, b"x", resourceId="../etc").json()["data"]["errorMsg"]["errCode"] == 78361
    assert upload(gateway, b"x", resourceId="r1", version="7").json()["data"]["errorMsg"]["errCode"] == 78361


def test_update_version_takes_the_next_version(gateway: GatewayServer, api: Api) -> None:
    rid = upload(gateway, SQL).json()["data"]["resourceId"]
    for expected in ("v000002", "v000003"):
        resp = requests.post(
            gateway.url + BML + "bml/updateVersion",
            files={"file": ("a.sql", b"select 2\n")},
            data={"resourceId": rid},
            headers={"Token-Code": "LINKIS-AUTH", "Token-User": "hadoop"},
            timeout=10,
        )
        assert (resp.json()["status"], resp.json()["data"]["version"]) == (0, expected)
    status, body = api.call(
        "POST", "bml/updateVersion", files={"file": ("a", b"x")}, data={"resourceId": "nope"}
    )
    assert (status, body["data"]["errorMsg"]["errCode"]) == (400, 78361)
    assert "is Null, illegal, or deleted" in body["message"]


def test_get_versions_newest_first_paged(gateway: GatewayServer, api: Api) -> None:
    rid = upload(gateway, SQL).json()["data"]["resourceId"]
    api.call("POST", "bml/updateVersion", files={"file": ("a", b"2")}, data={"resourceId": rid})
    data = api.data("GET", "bml/getVersions", params={"resourceId": rid})["ResourceVersions"]
    assert data["resourceId"] == rid and data["user"] == "hadoop"
    assert [v["version"] for v in data["versions"]] == ["v000002", "v000001"]
    assert all(v["resource"].startswith("file://") for v in data["versions"])
    page2 = api.data("GET", "bml/getVersions", params={"resourceId": rid, "currentPage": 2, "pageSize": 1})
    assert [v["version"] for v in page2["ResourceVersions"]["versions"]] == ["v000001"]
    status, body = api.call("GET", "bml/getVersions", params={"resourceId": rid, "currentPage": 9})
    assert (status, body["status"]) == (412, 2)
    status, body = api.call("GET", "bml/getVersions", params={"resourceId": "unknown"})
    assert (status, body["data"]["errorMsg"]["errCode"]) == (400, 78361)


def test_download_raw_bytes_owner_only_errors_not_enveloped(gateway: GatewayServer) -> None:
    rid = upload(gateway, SQL, user="alice").json()["data"]["resourceId"]

    def get(user: str, **params: Any) -> requests.Response:
        return requests.get(
            gateway.url + BML + "bml/download",
            params={"resourceId": rid, **params},
            headers={"Token-Code": "LINKIS-AUTH", "Token-User": user},
            timeout=10,
        )

    ok = get("alice")
    assert (ok.status_code, ok.content) == (200, SQL)
    assert ok.headers["Content-Type"] == "application/x-msdownload"
    assert ok.headers["Content-Disposition"] == "attachment"
    assert get("alice", version="v000001").content == SQL
    for resp, code in ((get("hadoop"), 75569), (get("alice", version="v000009"), 70068)):
        assert resp.status_code == 500
        body = resp.json()
        assert set(body) >= {"timestamp", "status", "error", "path"} and "method" not in body
        assert str(code) in body["message"]


def test_open_script_from_bml_parses_the_header(gateway: GatewayServer, api: Api) -> None:
    rid = upload(gateway, SQL + b"\r\nselect 2\r\n", user="alice").json()["data"]["resourceId"]
    # Read as the BML proxy user: anyone may read a script (no ownership check).
    data = api.data(
        "GET",
        "filesystem/openScriptFromBML",
        params={"resourceId": rid, "version": "v000001", "fileName": "x.sql"},
    )
    assert data == {
        "scriptContent": "select 1\n\nselect 2\n",
        "metadata": {
            "variable": {"target_db": "dw"},
            "configuration": {"runtime": {"wds.linkis.rm.yarnqueue": "q1"}},
        },
    }
    py = upload(gateway, b"#@set a=1\n#conf@set configuration startup k=v\nprint(1)\n").json()["data"]
    params = {"resourceId": py["resourceId"], "version": py["version"], "fileName": "n.py"}
    data = api.data("GET", "filesystem/openScriptFromBML", params=params)
    assert data["metadata"] == {"variable": {"a": "1"}, "configuration": {"startup": {"k": "v"}}}
    assert data["scriptContent"] == "print(1)\n"
    # A .txt file has no header; the header of another language is content.
    data = api.data("GET", "filesystem/openScriptFromBML", params={**params, "fileName": "n.txt"})
    assert data == {
        "scriptContent": "#@set a=1\n#conf@set configuration startup k=v\nprint(1)\n",
        "metadata": {},
    }


def test_open_script_errors(gateway: GatewayServer, api: Api) -> None:
    rid = upload(gateway, SQL).json()["data"]["resourceId"]
    for params, code in (
        ({"resourceId": rid, "version": "v000002", "fileName": "a.sql"}, 10905),
        ({"resourceId": "unknown", "version": "v000001", "fileName": "a.sql"}, 10905),
        ({"resourceId": rid, "fileName": "a.sql"}, 10905),
        ({"resourceId": rid, "version": "v000001", "fileName": "a.exe"}, 54001),
    ):
        status, body = api.call("GET", "filesystem/openScriptFromBML", params=params)
        assert (status, body["status"], body["data"]["errorMsg"]["errCode"]) == (400, 1, code), params
