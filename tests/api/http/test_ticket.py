"""The Linkis login ticket (shared/dss-drop-in.md 2.2): the test vector and every rejection."""

from __future__ import annotations

import base64

import pytest

from api.http import ticket
from api.http.envelope import Unauthorized

VECTOR = "M7UZXQP9Ld0njo8cjtULXGM+1N1N+j782HLiVea4FcQ="  # "bfs_hadoop,1700000000000", JDK 17 SunJCE
RPC_VECTOR = "r0ziL3FHptvrZCMCZop7MdIN+OgZW6BTVMjSt92zR2Y="  # "bfs_dataworkcloud_rpc_user"
MARKED = {ticket.MARKER_COOKIE: "true"}


def test_the_java_vector_decodes_and_encodes() -> None:
    assert ticket.decode(VECTOR) == "hadoop"
    assert ticket.encode("hadoop", 1700000000000) == VECTOR


def test_quoted_and_unquoted_cookie_values() -> None:
    assert (
        ticket.gateway_user({ticket.TICKET_COOKIE: f'"{VECTOR}"', ticket.MARKER_COOKIE: '"true"'}) == "hadoop"
    )
    assert ticket.gateway_user({ticket.TICKET_COOKIE: VECTOR, **MARKED}) == "hadoop"


def test_a_comma_in_the_user_splits_at_the_last_one_and_long_users_survive_mime_breaks() -> None:
    assert ticket.decode(ticket.encode("a,b", 1)) == "a,b"
    long_user = "u" * 60
    minted = ticket.encode(long_user, 1700000000000)
    mime = "\r\n".join(minted[i : i + 76] for i in range(0, len(minted), 76))
    assert ticket.decode(mime) == long_user


def test_the_crypt_key_is_the_operators() -> None:
    minted = ticket.encode("alice", 1, crypt_key="site-key")
    assert ticket.decode(minted, crypt_key="site-key") == "alice"
    with pytest.raises(ticket.TicketError, match="FLOWEXEC_LINKIS_CRYPT_KEY"):
        ticket.decode(minted)


def _des(plain: bytes) -> str:
    from cryptography.hazmat.primitives import padding

    padder = padding.PKCS7(64).padder()
    encryptor = ticket._cipher(ticket.DEFAULT_KEY).encryptor()
    data = padder.update(plain) + padder.finalize()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (VECTOR[:-6] + "AAAAA=", "does not decrypt"),  # tampered: the last block no longer pads
        (
            VECTOR[:10] + ("A" if VECTOR[10] != "A" else "B") + VECTOR[11:],
            "header|does not decrypt|login time",
        ),
        (_des(b"hadoop,1700000000000"), "no 'bfs_' header"),
        (_des(b"bfs_hadoop"), "no login time"),
        (RPC_VECTOR, "dataworkcloud_rpc_user"),
        (_des(b"bfs_dataworkcloud_rpc_user,1700000000000"), "dataworkcloud_rpc_user"),
        (_des(b"bfs_,1700000000000"), "no user"),
        ("not base64!", "not Base64"),
        (base64.b64encode(b"\x02" + bytes(12) + b"ciphertext-and-tag-16b").decode(), "AES-GCM"),
    ],
)
def test_bad_tickets_are_refused_with_the_reason(bad: str, reason: str) -> None:
    with pytest.raises(ticket.TicketError, match=reason) as info:
        ticket.decode(bad)
    assert isinstance(info.value, Unauthorized)  # status -1, HTTP 401


def test_a_ticket_without_the_gateways_marker_is_refused() -> None:
    with pytest.raises(ticket.TicketError, match=ticket.MARKER_COOKIE):
        ticket.gateway_user({ticket.TICKET_COOKIE: VECTOR})
    with pytest.raises(ticket.TicketError, match=ticket.MARKER_COOKIE):
        ticket.gateway_user({ticket.TICKET_COOKIE: VECTOR, ticket.MARKER_COOKIE: "false"})
    assert ticket.gateway_user(MARKED) is None  # no ticket: another identity source decides


def test_identify_takes_the_ticket_only_when_the_operator_trusts_it() -> None:
    from api.http.auth import identify
    from flowexec.config import Settings

    cookies = {ticket.TICKET_COOKIE: VECTOR, **MARKED}
    assert identify(Settings(trust_linkis_ticket=True), {}, cookies, "10.0.0.9") == "hadoop"
    with pytest.raises(Unauthorized):  # off by default: a ticket is no login
        identify(Settings(), {}, cookies, "10.0.0.9")
    behind = Settings(trust_linkis_ticket=True, trusted_proxies=frozenset({"10.0.0.5"}))
    assert identify(behind, {}, cookies, "10.0.0.5") == "hadoop"
    with pytest.raises(Unauthorized):  # not from the gateway's address
        identify(behind, {}, cookies, "10.0.0.9")
