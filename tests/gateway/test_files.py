"""``filesystem`` over raw HTTP: result directories, result set pages and paths."""

from __future__ import annotations

from typing import Any

from tests.gateway.support import Api


def test_open_file_pages_nulls_and_paths(api: Api) -> None:
    code = "select 1 as a, null as b union all select 2, 'x' union all select 3, 'y' order by 1;"
    body = {
        "executionContent": {"code": code, "runType": "sql"},
        "labels": {"engineType": "hive-3.1.3", "userCreator": "hadoop-nodeexecution"},
    }
    task = api.finish(api.data("POST", "entrance/submit", json=body)["taskID"])
    tree = api.data("GET", "filesystem/getDirFileTrees", params={"path": task["resultLocation"]})
    [leaf] = tree["dirFileTrees"]["children"]
    assert leaf["name"] == "_0.dolphin" and leaf["isLeaf"] is True

    def page(**params: Any) -> dict[str, Any]:
        data: dict[str, Any] = api.data("GET", "filesystem/openFile", params={"path": leaf["path"], **params})
        return data

    first = page(pageSize=2)
    assert first["fileContent"] == [["1", "NULL"], ["2", "x"]]
    assert (first["totalLine"], first["totalPage"]) == (2, 0)
    assert [m["columnName"] for m in first["metadata"]] == ["a", "b"]
    assert page(page=2, pageSize=2)["fileContent"] == [["3", "y"]]
    assert page(page=3, pageSize=2)["fileContent"] == []
    assert page(pageSize=1, nullValue="LINKIS_NULL")["fileContent"] == [["1", None]]
    missing = task["resultLocation"] + "-nothing"
    assert api.data("GET", "filesystem/getDirFileTrees", params={"path": missing}) == {"dirFileTrees": None}
    for path, err_code in (("", 80004), ("file:///etc", 80010)):
        _, reply = api.call("GET", "filesystem/getDirFileTrees", params={"path": path})
        assert reply["data"]["errorMsg"]["errCode"] == err_code
