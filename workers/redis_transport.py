"""The Redis transport, made to survive losing Redis while messages are unacknowledged.

With ``acks_late``, a worker holds delivered messages unacknowledged. When Redis goes away,
kombu closes the channel, restoring those messages first, and acks the tasks that finish
meanwhile; in kombu 5.7 both rebuild a connection pool from a connection that is already
gone and raise an ``AttributeError``, which Celery treats as unrecoverable: the worker exits.
Here that case raises a connection error instead, which kombu and Celery handle (log, then
reconnect), and a restore that fails is logged and dropped. Nothing is lost by it: if Redis
kept the messages they come back after the visibility timeout, and either way flowexec's
reconciler re-sends every node the database still shows as queued or polling.
"""

from __future__ import annotations

import logging
from typing import Any

import redis as redis_client
from kombu.transport import redis
from kombu.utils.json import dumps

from workers import monitors

log = logging.getLogger(__name__)

#: Celery's event exchange (``event_exchange``): Flower subscribes to it.
EVENTS_EXCHANGE = "celeryev"


class QoS(redis.QoS):
    def restore_unacked(self, client: object = None) -> None:
        try:
            super().restore_unacked(client)  # type: ignore[no-untyped-call]
        except redis.Transport.connection_errors as exc:
            delivered: Any = self._delivered
            log.warning(
                "could not restore %s unacknowledged message(s) on a lost broker: %r; "
                "the reconciler re-sends them",
                len(delivered),
                exc,
            )
            delivered.clear()


class Channel(redis.Channel):
    QoS = QoS
    _sync_client: tuple[object, Any] | None = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        """One client per connection pool for the channel's commands (publish, ack, events).

        kombu builds a new ``redis.Redis`` for each of them, and each build fills its table of
        some 170 reply callbacks: a third of a millisecond per message sent or acknowledged. A
        client holds no connection of its own (each command takes one from the pool), so one
        serves every thread; a new pool (after a reconnect) gets a new client.
        """
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[no-untyped-call]
        pool = self.pool
        cached = self._sync_client
        if cached is None or cached[0] is not pool:
            cached = self._sync_client = (pool, super()._create_client())  # type: ignore[no-untyped-call]
        return cached[1]

    def _put_fanout(self, exchange: str, message: Any, routing_key: str, **kwargs: Any) -> None:
        """Publish a fanout message; for the task events, note how many subscribers heard it
        (``workers.monitors``: with nobody listening, senders leave ``task-sent`` out)."""
        if exchange != EVENTS_EXCHANGE or kwargs.get("_publish_batch") is not None:
            super()._put_fanout(exchange, message, routing_key, **kwargs)  # type: ignore[no-untyped-call]
            return
        payload = dumps(message)  # type: ignore[no-untyped-call]
        many = getattr(self, "_get_publish_topics", None)  # older kombu: one topic only
        topics: list[str] = (
            many(exchange, routing_key) if many else [self._get_publish_topic(exchange, routing_key)]  # type: ignore[no-untyped-call]
        )
        receivers = 0
        with self.conn_or_acquire() as client:
            for topic in topics:
                receivers += int(client.publish(topic, payload))
        monitors.heard(receivers)

    def _connparams(self, asynchronous: bool = False) -> dict[str, object]:
        if self.connection is None or self.connection.client is None:
            raise redis_client.ConnectionError("the broker connection is closed")
        params: dict[str, object] = super()._connparams(asynchronous)  # type: ignore[no-untyped-call]
        return params


class Transport(redis.Transport):
    Channel = Channel
