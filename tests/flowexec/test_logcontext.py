"""Every log line names its execution and node."""

from __future__ import annotations

import logging

from flowexec import logcontext


def _format(message: str) -> str:
    record = logging.LogRecord("flowexec.service", logging.INFO, __file__, 1, message, None, None)
    assert logcontext.ContextFilter().filter(record)
    return logging.Formatter(logcontext.FORMAT).format(record)


def test_lines_carry_the_bound_ids_and_dashes_outside_a_node() -> None:
    logcontext.clear()
    assert " exec=- node=- claim lost" in _format("claim lost")
    logcontext.bind(42, "extract_sh")
    assert " exec=42 node=extract_sh claim lost" in _format("claim lost")
    logcontext.clear()
    assert " exec=- node=- " in _format("x")
