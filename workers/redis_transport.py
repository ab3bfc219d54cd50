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

log = logging.getLogger(__name__)


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

    def _connparams(self, asynchronous: bool = False) -> dict[str, object]:
        if self.connection is None or self.connection.client is None:
            raise redis_client.ConnectionError("the broker connection is closed")
        params: dict[str, object] = super()._connparams(asynchronous)  # type: ignore[no-untyped-call]
        return params


class Transport(redis.Transport):
    Channel = Channel
