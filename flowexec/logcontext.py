"""Execution and node ids on every log line: a context variable and a logging filter."""

from __future__ import annotations

import contextvars
import logging

_context: contextvars.ContextVar[tuple[str, str]] = contextvars.ContextVar("flowexec_log", default=("-", "-"))

#: The format the entry points configure: key=value ids, then the message.
FORMAT = "%(asctime)s %(levelname)s %(name)s exec=%(task_id)s node=%(node_key)s %(message)s"


def bind(task_id: object, node_key: object = "-") -> None:
    """Name the execution (task id) and node that the following log lines are about."""
    _context.set((str(task_id), str(node_key)))


def clear() -> None:
    _context.set(("-", "-"))


class ContextFilter(logging.Filter):
    """Adds ``task_id`` and ``node_key`` to every record (``-`` outside a node's work)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.task_id, record.node_key = _context.get()
        return True


def configure(level: int = logging.INFO) -> None:
    """Configure the root logger with the ids on every line (entry points only)."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic's INFO lines ("setup plugin …") are noise at every start; `flowexec db -v` asks for them.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
