"""Tests of flowexec/variables.py."""

from __future__ import annotations

from datetime import date
from datetime import datetime

import pytest

from flowexec import variables as fv

# --- variables -------------------------------------------------------------------------------


def call_flow_variables(props, overrides, today):
    before = datetime.now().hour
    out = fv.flow_variables(props, overrides, datetime.combine(today, datetime.now().time()))
    after = datetime.now().hour
    return out, {before, after}


def assert_derived(out, day_after, hours):
    hour = out["run_today_h"][8:]
    assert int(hour) in hours and len(hour) == 2
    assert out["run_today_h"] == day_after + hour
    assert out["run_today_hour"] == out["run_today_h"]
    std = f"{day_after[:4]}-{day_after[4:6]}-{day_after[6:]} {hour}"
    assert out["run_today_h_std"] == std
    assert out["run_today_hour_std"] == std


@pytest.mark.parametrize(
    ("today", "run_date", "day_after"),
    [
        (date(2025, 3, 15), "20250314", "20250315"),
        (date(2025, 3, 1), "20250228", "20250301"),
        (date(2024, 3, 1), "20240229", "20240301"),
        (date(2025, 1, 1), "20241231", "20250101"),
    ],
)
def test_run_date_defaults_to_yesterday(today, run_date, day_after):
    out, hours = call_flow_variables({"user.to.proxy": "alice"}, {}, today)
    assert out["run_date"] == run_date
    assert out["user.to.proxy"] == "alice"
    assert_derived(out, day_after, hours)


def test_explicit_run_date_is_kept():
    out, hours = call_flow_variables({"run_date": "20241231"}, {}, date(2025, 6, 1))
    assert out["run_date"] == "20241231"
    assert_derived(out, "20250101", hours)


@pytest.mark.parametrize("bad", ["2025-03-01", "yesterday", "20251301", "20250230", "${run_date}", ""])
def test_unparsable_run_date_falls_back_to_yesterday(bad):
    out, hours = call_flow_variables({"run_date": bad}, {}, date(2025, 3, 10))
    assert out["run_date"] == "20250309"
    assert_derived(out, "20250310", hours)


def test_overrides_win_over_props_and_are_strings():
    props = {"run_date": "20250301", "target_db": "dw_sales", "keep": "1"}
    out, hours = call_flow_variables(
        props, {"run_date": 20240228, "target_db": "dw_test", "n": 5}, date(2025, 6, 1)
    )
    assert out["run_date"] == "20240228"
    assert out["target_db"] == "dw_test"
    assert out["keep"] == "1" and out["n"] == "5"
    assert_derived(out, "20240229", hours)


def test_override_of_a_derived_variable_wins():
    out = fv.flow_variables({}, {"run_today_h": "2025010112"}, datetime(2025, 6, 1, 12))
    assert out["run_today_h"] == "2025010112"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("echo ${run_date}", "echo 20250301"),
        ("${a}${a}-${b}", "11-${b}"),
        (
            "select * from ${target_db}.t where d='${run_date}'",
            "select * from dw.t where d='20250301'",
        ),
        ("${user.to.proxy}", "alice"),
        ("$run_date ${ run_date } $${run_date}", "$run_date ${ run_date } $20250301"),
        ("${unknown} stays", "${unknown} stays"),
        ("${1bad}", "${1bad}"),
        ("path=${p}", r"path=C:\1\g<0>"),
        ("", ""),
    ],
)
def test_render(code, expected):
    variables = {
        "run_date": "20250301",
        "a": "1",
        "target_db": "dw",
        "user.to.proxy": "alice",
        "p": r"C:\1\g<0>",
    }
    assert fv.render(code, variables) == expected


def test_render_does_not_substitute_recursively():
    assert fv.render("${a}", {"a": "${b}", "b": "x"}) == "${b}"
