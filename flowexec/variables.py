"""Flow variables: DSS's date variables, the precedence of props and overrides, one substitution.

Pure: the caller passes the clock (``now``) in, so a plan is the same for the same inputs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from flowexec.errors import InvalidRequest

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def flow_variables(props: Mapping[str, str], overrides: Mapping[str, Any], now: datetime) -> dict[str, str]:
    """Merge flow props, DSS's date variables and the request's overrides (which win).

    ``run_date`` is yesterday (``yyyyMMdd``) unless set; an unparsable one falls back to
    yesterday, as in DSS. ``run_today_h`` is the day after ``run_date`` at the current hour.
    """
    merged = {**props, **{str(k): str(v) for k, v in overrides.items()}}
    run_date = _parse_day(merged.get("run_date")) or now.date() - timedelta(days=1)
    after = datetime(run_date.year, run_date.month, run_date.day, now.hour) + timedelta(days=1)
    derived = {
        "run_date": run_date.strftime("%Y%m%d"),
        "run_today_h": after.strftime("%Y%m%d%H"),
        "run_today_hour": after.strftime("%Y%m%d%H"),
        "run_today_h_std": after.strftime("%Y-%m-%d %H"),
        "run_today_hour_std": after.strftime("%Y-%m-%d %H"),
    }
    return {**merged, **derived, **{str(k): str(v) for k, v in overrides.items()}}


def _parse_day(text: str | None) -> date | None:
    try:
        return datetime.strptime(text or "", "%Y%m%d").date()
    except ValueError:
        return None


def render(code: str, variables: Mapping[str, str], max_chars: int | None = None) -> str:
    """Substitute ``${name}`` once (values are not scanned again); unknown names are left as they are.

    With ``max_chars``, a result longer than that many characters is refused as soon as the
    substitution grows past it (``InvalidRequest`` naming ``FLOWEXEC_MAX_CODE_CHARS``).
    """
    size = len(code)

    def value(match: re.Match[str]) -> str:
        nonlocal size
        text = variables.get(match.group(1), match.group(0))
        size += len(text) - len(match.group(0))
        if max_chars is not None and size > max_chars:
            raise InvalidRequest(
                f"code is longer than {max_chars} characters after variable substitution "
                "(FLOWEXEC_MAX_CODE_CHARS)"
            )
        return text

    if max_chars is not None and size > max_chars:
        raise InvalidRequest(f"code is longer than {max_chars} characters (FLOWEXEC_MAX_CODE_CHARS)")
    return _VARIABLE.sub(value, code)
