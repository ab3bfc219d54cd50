"""Job log lines as Linkis writes them, and the four level slots of a log answer."""

from __future__ import annotations

from datetime import datetime


def log_line(level: str, text: str) -> str:
    """Format one log line as Linkis does: ``yyyy-MM-dd HH:mm:ss.SSS LEVEL text``."""
    now = datetime.now()
    return f"{now:%Y-%m-%d %H:%M:%S}.{now.microsecond // 1000:03d} {level} {text}"


def _slot(line: str) -> int:
    """Return the log slot of a line: 0 ERROR, 1 WARN, 2 INFO and unclassified."""
    parts = line.split(" ", 3)
    level = parts[2] if len(parts) > 2 else ""
    if "ERROR" in level:
        return 0
    if "WARN" in level:
        return 1
    return 2


def four_slots(lines: list[str], line_endings: bool = False) -> list[str]:
    """Split lines into the ERROR, WARN, INFO, ALL slots of a Linkis log answer."""
    buckets: list[list[str]] = [[], [], [], []]
    for line in lines:
        if line.strip():
            buckets[_slot(line)].append(line)
            buckets[3].append(line)
    if line_endings:
        return ["".join(line + "\n" for line in b) for b in buckets]
    return ["\n".join(b) for b in buckets]
