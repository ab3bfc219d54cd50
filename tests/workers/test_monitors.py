"""Tasks are announced (``task-sent``) while a monitor listens on Redis, and not while nobody does."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
import redis

from flowexec.actions import RunNodes
from tests.conftest import migrated_app
from workers import dispatch
from workers import monitors


@pytest.fixture
def app(tmp_path: Any, clean_redis: str) -> Any:
    return migrated_app(f"sqlite:///{tmp_path / 'app.db'}", broker_url=clean_redis)


@pytest.fixture(autouse=True)
def fresh_state() -> Any:
    monitors._quiet_since[0] = None
    yield
    monitors._quiet_since[0] = None


def test_a_quiet_broker_is_asked_again_after_probe_every(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(monitors.time, "monotonic", lambda: clock[0])
    assert monitors.listening()  # nothing known yet: announce
    monitors.heard(0)
    assert not monitors.listening()
    clock[0] += monitors.PROBE_EVERY - 0.1
    assert not monitors.listening()
    clock[0] += 0.1
    assert monitors.listening()  # time to ask again
    monitors.heard(2)
    assert monitors.listening()


def _sent_events(pubsub: Any, timeout: float = 1.0) -> list[dict[str, Any]]:
    found, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.05)
        if message and message["type"] == "pmessage":
            envelope = json.loads(message["data"])
            body = envelope["body"]
            if envelope["properties"].get("body_encoding") == "base64":
                body = base64.b64decode(body)
            found.append(json.loads(body))
    return [event for event in found if event.get("type") == "task-sent"]


@pytest.mark.parametrize("kombu_topics", ["many", "one"])
def test_task_sent_goes_out_only_while_somebody_subscribes(
    app: Any, clean_redis: str, kombu_topics: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kombu_topics == "one":  # an older kombu, whose channel knows one topic per publish
        from kombu.transport import redis as kombu_redis

        monkeypatch.delattr(kombu_redis.Channel, "_get_publish_topics")
    client = redis.Redis.from_url(clean_redis)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    with app.app_context():
        dispatch.send([RunNodes((1,), labels=("1:a",))])  # nobody listens: this event reaches no one
        assert not monitors.listening()
        pubsub = client.pubsub()
        pubsub.psubscribe(f"/{db}.celeryev/*")  # what Flower subscribes to
        pubsub.get_message(timeout=1.0)  # the subscription's confirmation
        dispatch.send([RunNodes((2,), labels=("1:b",))])
        assert _sent_events(pubsub, 0.5) == []  # not announced while the broker last said "nobody"
        monitors._quiet_since[0] -= monitors.PROBE_EVERY  # the probe is due
        dispatch.send([RunNodes((3,), labels=("1:c",))])
        dispatch.send([RunNodes((4,), labels=("1:d",))])
        sent = _sent_events(pubsub)
        assert [event["kwargs"] for event in sent] == ["{'node': '1:c'}", "{'node': '1:d'}"]
        assert monitors.listening()
        pubsub.close()
    client.close()
