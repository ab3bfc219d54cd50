"""Names a caller chooses: user names, node ids and titles (one pattern each, checked everywhere)."""

from __future__ import annotations

import re

from flowexec.errors import InvalidFlow
from flowexec.errors import InvalidRequest

#: A user name: letters, digits, ``_ . @``; no ``-`` (Linkis splits ``user-creator`` on it), no ``/``.
USER_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.@]{0,49}$"
USER_RE = re.compile(USER_PATTERN)
#: Longest node id or title (the node table's columns).
MAX_ID = 128
#: A node id: no control characters, no ``/`` (subflow keys are ``<subflow>/<child>``), no ``,``
#: (DSS lists node ids comma-separated).
_BAD_ID = re.compile(r"[\x00-\x1f\x7f/,]")


def valid_user(name: str) -> bool:
    return bool(USER_RE.match(name))


def check_user(name: str) -> str:
    """Return a valid user name, or raise ``InvalidRequest`` naming the rule."""
    if not valid_user(name):
        raise InvalidRequest(
            f"invalid user name {name[:60]!r}: 1-50 of letters, digits, '_', '.', '@' (not starting with '.' or '@')"
        )
    return name


def four_byte(text: str) -> bool:
    """True when the text holds a character outside the BMP (4 bytes in UTF-8, refused by utf8 columns)."""
    return any(ord(c) > 0xFFFF for c in text)


def check_node_id(key: str) -> None:
    if len(key) > MAX_ID:
        raise InvalidFlow(f"node id {key[:40]!r}... is longer than {MAX_ID} characters")
    if _BAD_ID.search(key):
        raise InvalidFlow(f"node id {key!r} contains '/', ',' or a control character")
    if four_byte(key):
        raise InvalidFlow(f"node id {key!r} contains a 4-byte character (emoji); not storable")


def check_label(what: str, text: str) -> None:
    """A flattened key or title: at most ``MAX_ID`` characters, no 4-byte characters."""
    if len(text) > MAX_ID:
        raise InvalidFlow(f"{what} {text[:40]!r}... is longer than {MAX_ID} characters")
    if four_byte(text):
        raise InvalidFlow(f"{what} {text!r} contains a 4-byte character (emoji); not storable")
