"""Small pieces without HTTP: log slots, paths under the state directory, submit bodies."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.files import resolve_path
from gateway.logs import four_slots
from gateway.logs import log_line
from gateway.protocol import Refusal
from gateway.submit import check_user_creator
from gateway.submit import parse_execute
from gateway.submit import substitute


def test_log_lines_go_to_their_level_slot_and_to_all() -> None:
    lines = [log_line("INFO", "one"), log_line("ERROR", "two"), "", log_line("WARN", "three"), "plain"]

    error, warn, info, everything = four_slots(lines)

    assert error.endswith(" ERROR two") and warn.endswith(" WARN three")
    assert info.split("\n")[1] == "plain" and len(everything.split("\n")) == 4
    assert four_slots(["plain"], line_endings=True) == ["", "", "plain\n", "plain\n"]


def test_paths_must_stay_under_the_state_directory(tmp_path: Path) -> None:
    root = tmp_path.resolve()

    own = root / "result" / "2025-01-01" / "IDE" / "alice" / "7" / "_0.dolphin"
    assert resolve_path(root, f"file://{own}", "alice") == own
    assert resolve_path(root, f"file://{own}", "bob", admin=True) == own
    for path, err_code in (
        ("", 80004),
        (f"file://{root}/../elsewhere", 80010),
        ("/etc/passwd", 80010),
        (f"file://{own}", 80010),  # bob's view of alice's folder
        (f"file://{root}/history.db", 80010),
        (f"file://{root}/work/7/script.py", 80010),
        (f"file://{root}/result/_0.dolphin", 80010),
    ):
        with pytest.raises(Refusal) as caught:
            resolve_path(root, path, "bob")
        assert caught.value.err_code == err_code


def test_submit_body_helpers() -> None:
    assert substitute("${a} ${ b } ${c}", {"a": 1, "b": "x"}) == "1 x ${c}"
    assert check_user_creator({"userCreator": "Hadoop-IDE"}, "hadoop") == "IDE"
    with pytest.raises(Refusal) as caught:
        check_user_creator({"userCreator": "hadoop"}, "hadoop")
    assert caught.value.err_code == 50079
    req = parse_execute({"executionCode": "select 1", "executeApplicationName": "hive"}, "alice")
    assert (req.run_type, req.labels) == ("sql", {"engineType": "hive-3.1.3", "userCreator": "alice-IDE"})


def test_a_job_is_waited_for_past_a_thousand_open_descriptors() -> None:
    """With a thousand jobs running the gateway holds descriptors numbered past 1024, where
    ``select`` refuses one; a job's wait must still see its process end."""
    import os
    import resource
    import subprocess

    from gateway.runner import _exited_within

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        pytest.skip(f"the descriptor limit here is {soft}")
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        proc = subprocess.Popen(["true"])
        assert _exited_within(proc, 10.0) == 0
        sleeper = subprocess.Popen(["sleep", "5"])
        assert _exited_within(sleeper, 0.05) is None  # still running: no exit code yet
        sleeper.kill()
        sleeper.wait()
    finally:
        for fd in held:
            os.close(fd)
