"""The portal's cookie and CSRF tokens, signed with the installation's link secret.

The cookie holds ``nonce.customer.expires.signature``: `customer` is 0 until the identity check
passes, and a new nonce is drawn when it does (no session fixation). Every form carries
``HMAC(secret, "csrf" | nonce)``: a page of another site cannot read it, so cannot post for the
visitor. Hand-written (a few HMAC lines) rather than a session middleware, because the cookie
must be bound to the link's customer and to the link secret that `regua init` made.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

COOKIE = "regua_portal"
SESSION_MINUTES = 30


def _sign(secret: str, label: str, text: str) -> str:
    digest = hmac.new(secret.encode(), f"{label}:{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


@dataclass(frozen=True)
class Session:
    nonce: str
    customer_id: int  # 0: identity not checked yet
    expires: int  # Unix seconds

    def csrf(self, secret: str) -> str:
        return _sign(secret, "csrf", self.nonce)

    def verified_for(self, customer_id: int, now: datetime) -> bool:
        return self.customer_id == customer_id and now.timestamp() < self.expires


def new_session(customer_id: int, now: datetime) -> Session:
    until = now + timedelta(minutes=SESSION_MINUTES)
    return Session(secrets.token_urlsafe(12), customer_id, int(until.timestamp()))


def dump(secret: str, session: Session) -> str:
    body = f"{session.nonce}.{session.customer_id}.{session.expires}"
    return f"{body}.{_sign(secret, 'session', body)}"


def load(secret: str, value: str | None) -> Session | None:
    """The session of a cookie, or None when it is absent, altered or not one."""
    if not value or len(value) > 200:
        return None
    parts = value.split(".")
    if len(parts) != 4:
        return None
    nonce, customer, expires, signature = parts
    body = f"{nonce}.{customer}.{expires}"
    if not hmac.compare_digest(signature, _sign(secret, "session", body)):
        return None
    try:
        return Session(nonce, int(customer), int(expires))
    except ValueError:
        return None


def csrf_ok(secret: str, session: Session | None, given: str) -> bool:
    return session is not None and hmac.compare_digest(session.csrf(secret), given or "")
