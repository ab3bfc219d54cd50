"""Per-request fault rules without HTTP: matching, spending ``times``, and unknown actions."""

from __future__ import annotations

import pytest

from gateway.faults import Faults
from gateway.protocol import Refusal


def test_a_rule_matches_its_method_and_path_and_is_spent() -> None:
    faults = Faults()
    rule = faults.add({"method": "get", "path": "entrance/.*/status", "action": "http_500", "times": 2})

    assert (rule.method, rule.times, rule.seconds) == ("GET", 2, 2.0)
    assert faults.take("POST", "/api/rest_j/v1/entrance/x/status") is None
    assert faults.take("GET", "/api/rest_j/v1/entrance/submit") is None
    assert faults.take("GET", "/api/rest_j/v1/entrance/x/status") is rule
    assert faults.take("GET", "/api/rest_j/v1/entrance/y/status") is rule
    assert faults.take("GET", "/api/rest_j/v1/entrance/x/status") is None


def test_rules_apply_in_order_and_negative_or_none_times_is_forever() -> None:
    faults = Faults()
    forever = faults.add({"method": "*", "action": "slow", "times": -1, "seconds": "0.5"})
    later = faults.add({"path": "jobhistory", "action": "status_1"})

    assert forever.method is None and forever.times is None and forever.seconds == 0.5
    for method in ("GET", "POST", "GET"):
        assert faults.take(method, "/api/rest_j/v1/jobhistory/list") is forever
    assert faults.add({"action": "drop", "times": None}).times is None
    faults.clear()
    assert faults.take("GET", "/api/rest_j/v1/jobhistory/list") is None
    assert later.times == 1


def test_defaults_and_unknown_actions() -> None:
    faults = Faults()
    rule = faults.add({"action": "not_json", "seconds": "soon"})

    assert (rule.method, rule.path.pattern, rule.times, rule.seconds) == (None, ".*", 1, 2.0)
    with pytest.raises(Refusal, match="unknown fault action 'explode'"):
        faults.add({"action": "explode"})
