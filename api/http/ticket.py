"""The Linkis gateway's login ticket: who the user is, for a request the gateway forwarded.

Linkis's ``SSOUtils``/``DESUtil`` (1.0.2 to 1.4): the cookie ``linkis_user_session_ticket_id_v1``
holds Base64(DES/ECB/PKCS5(``bfs_<user>,<login millis>``)); the DES key is the first 8 bytes of
Base64(``wds.linkis.crypt.key``, default ``bdp-for-server``). A backend without the gateway's
session map accepts a ticket only when the gateway's inner-request marker cookie
``dataworkcloud_inner_request`` is ``true``. The marker is a cookie anyone can send: trust the
ticket only when nothing but the gateway reaches this port (``FLOWEXEC_TRUST_LINKIS_TICKET``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Protocol

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import modes

from api.http.envelope import Unauthorized

TICKET_COOKIE = "linkis_user_session_ticket_id_v1"
MARKER_COOKIE = "dataworkcloud_inner_request"
TICKET_HEADER = "bfs_"
RPC_USER = "dataworkcloud_rpc_user"
DEFAULT_KEY = "bdp-for-server"
_AES_VERSION = 0x02  # Linkis master's TicketCipher: 0x02 | IV | AES-256-GCM


class _Cookies(Protocol):
    def get(self, key: str, /) -> str | None: ...


class TicketError(Unauthorized):
    """A ticket that does not decode to a user: not logged in (status -1, HTTP 401)."""


def _des_key(crypt_key: str) -> bytes:
    """``DESUtil``: the key is Base64 of the configured key; DES reads its first 8 bytes."""
    encoded = base64.b64encode(crypt_key.encode())
    return encoded[:8].ljust(8, b"X")


def _cipher(crypt_key: str) -> Cipher[modes.ECB]:
    # TripleDES with K1 = K2 = K3 is single DES, as Java's "DES" cipher.
    return Cipher(TripleDES(_des_key(crypt_key) * 3), modes.ECB())


def encode(user: str, login_millis: int, crypt_key: str = DEFAULT_KEY) -> str:
    """Mint a ticket as the gateway does (tests, and a stand-in gateway)."""
    padder = padding.PKCS7(64).padder()
    plain = padder.update(f"{TICKET_HEADER}{user},{login_millis}".encode()) + padder.finalize()
    encryptor = _cipher(crypt_key).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def decode(ticket: str, crypt_key: str = DEFAULT_KEY) -> str:
    """The user a ticket names; anything else is a ``TicketError`` saying why."""
    text = "".join(_unquote(ticket).split())  # MIME Base64 breaks long tickets with CRLF
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TicketError("login ticket is not Base64") from None
    try:
        text = _decrypt(raw, crypt_key)
    except (ValueError, UnicodeDecodeError):
        if raw[:1] == bytes([_AES_VERSION]):
            raise TicketError(
                "login ticket is AES-GCM (Linkis TicketCipher, after DSS 1.x); only DES tickets are supported"
            ) from None
        raise TicketError(
            "login ticket does not decrypt with the configured key (FLOWEXEC_LINKIS_CRYPT_KEY)"
        ) from None
    if not text.startswith(TICKET_HEADER):
        raise TicketError(f"illegal login ticket: no {TICKET_HEADER!r} header")
    body = text[len(TICKET_HEADER) :]
    user, comma, _millis = body.rpartition(",")
    if RPC_USER in (body, user):
        raise TicketError(f"{RPC_USER} is not a login user")
    if not comma:
        raise TicketError("illegal login ticket: no login time")
    if not user.strip():
        raise TicketError("illegal login ticket: no user")
    return user


def _decrypt(raw: bytes, crypt_key: str) -> str:
    if not raw or len(raw) % 8:
        raise ValueError("not whole DES blocks")
    decryptor = _cipher(crypt_key).decryptor()
    unpadder = padding.PKCS7(64).unpadder()
    plain = unpadder.update(decryptor.update(raw) + decryptor.finalize()) + unpadder.finalize()
    return plain.decode()


def gateway_user(cookies: _Cookies, crypt_key: str = DEFAULT_KEY) -> str | None:
    """The ticket's user for a request the gateway forwarded; None when no ticket came.

    A ticket without the gateway's inner-request marker is refused (as Linkis refuses it).
    """
    ticket = cookies.get(TICKET_COOKIE)
    if not ticket or not _unquote(ticket):
        return None
    if _unquote(cookies.get(MARKER_COOKIE) or "").lower() != "true":
        raise TicketError(f"login ticket without the gateway's {MARKER_COOKIE} marker")
    return decode(ticket, crypt_key)
