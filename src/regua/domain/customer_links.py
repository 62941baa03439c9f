"""The tokens of a customer's links (portal, unsubscribe): short, expiring, and opaque.

A token says which customer it is for and until when it is good, so a page can act on it
without a login; nobody may read the customer id out of it (ids are sequential) or make one
without the link-signing secret. It is encrypt-then-MAC over 16 bytes:

    nonce (6 random bytes) | customer id (5) XOR pad | expiry day (3) XOR pad | tag (12)

with ``pad = HMAC-SHA256(secret, "enc" | purpose | nonce)`` (HMAC as a pseudo-random function
keyed by the secret: a one-block stream cipher whose random 48-bit nonce makes each pad new) and
``tag = HMAC-SHA256(secret, "mac" | purpose | nonce | ciphertext)``. Written out here because the
standard library has no cipher and a link must stay short for an SMS (35 characters of
base64url), where a Fernet token is over 100.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import date, timedelta
from enum import StrEnum

_EPOCH = date(2000, 1, 1)
_NONCE = 6
_ID = 5
_DAY = 3
_TAG = 12
_SIZE = _NONCE + _ID + _DAY + _TAG
DEFAULT_LINK_DAYS = 60


class LinkPurpose(StrEnum):
    PORTAL = "portal"
    UNSUBSCRIBE = "unsubscribe"


class LinkProblem(StrEnum):
    MALFORMED = "malformed"  # not a token of this kind (an old link, a typo, a forgery)
    EXPIRED = "expired"


class LinkRefused(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def new_link_secret() -> str:
    """A fresh link-signing secret (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def _mac(secret: str, label: bytes, *parts: bytes) -> bytes:
    return hmac.new(secret.encode(), label + b"".join(parts), hashlib.sha256).digest()


def make_link_token(
    secret: str,
    purpose: LinkPurpose,
    customer_id: int,
    today: date,
    days: int = DEFAULT_LINK_DAYS,
    *,
    nonce: bytes | None = None,
) -> str:
    """The token of a link for `customer_id`, good until `today` + `days` (inclusive)."""
    if not secret:
        raise ValueError("link secret is empty")
    if not 0 < customer_id < 2 ** (8 * _ID):
        raise ValueError("customer id out of range")
    expires = (today - _EPOCH).days + max(days, 0)
    nonce = nonce if nonce is not None else secrets.token_bytes(_NONCE)
    plain = customer_id.to_bytes(_ID, "big") + expires.to_bytes(_DAY, "big")
    pad = _mac(secret, b"enc:" + purpose.encode() + b":", nonce)
    cipher = bytes(a ^ b for a, b in zip(plain, pad, strict=False))
    tag = _mac(secret, b"mac:" + purpose.encode() + b":", nonce, cipher)[:_TAG]
    return base64.urlsafe_b64encode(nonce + cipher + tag).decode().rstrip("=")


def read_link_token(secret: str, purpose: LinkPurpose, token: str, today: date) -> int:
    """The customer id a token is for.

    Raises:
        LinkRefused: MALFORMED (not made with this secret for this purpose, or not a token at
            all: every old link ``<id>.<signature>`` lands here) or EXPIRED.
    """
    if not secret or len(token) > 64 or not token.isascii():
        raise LinkRefused(LinkProblem.MALFORMED)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise LinkRefused(LinkProblem.MALFORMED) from None
    if len(raw) != _SIZE:
        raise LinkRefused(LinkProblem.MALFORMED)
    nonce, cipher, tag = raw[:_NONCE], raw[_NONCE : _NONCE + _ID + _DAY], raw[-_TAG:]
    expected = _mac(secret, b"mac:" + purpose.encode() + b":", nonce, cipher)[:_TAG]
    if not hmac.compare_digest(tag, expected):
        raise LinkRefused(LinkProblem.MALFORMED)
    pad = _mac(secret, b"enc:" + purpose.encode() + b":", nonce)
    plain = bytes(a ^ b for a, b in zip(cipher, pad, strict=False))
    customer_id = int.from_bytes(plain[:_ID], "big")
    expires = _EPOCH + timedelta(days=int.from_bytes(plain[_ID:], "big"))
    if today > expires:
        raise LinkRefused(LinkProblem.EXPIRED)
    return customer_id
