"""The customers' links: the secret that signs them, and what the unsubscribe link does.

The link-signing secret is REGUA_LINK_SECRET when set, else the one kept in the database
(`store.installation_secrets`, made by `regua init`, `regua demo` and the migration); it is
never a webhook's secret, so whoever holds a provider's key cannot make links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy.exc import OperationalError, ProgrammingError

from regua.config import Settings
from regua.domain.customer_links import LinkPurpose, LinkRefused, read_link_token
from regua.services.message_context import PortalLinks
from regua.store.contacts import opt_out
from regua.store.installation_secrets import LINK_SIGNING, read_secret
from regua.store.uow import UnitOfWorkFactory


def link_secret(uow: UnitOfWorkFactory, settings: Settings) -> str:
    """The secret that signs the links ("" when there is none: no links are made)."""
    if settings.link_secret:
        return settings.link_secret
    try:
        with uow() as work:
            return read_secret(work.connection, LINK_SIGNING) or ""
    except (OperationalError, ProgrammingError):
        # A database not upgraded to 0010 yet: messages go out without links, as before.
        return ""


def portal_links(uow: UnitOfWorkFactory, settings: Settings) -> PortalLinks:
    """The links the messages of this installation carry (portal, unsubscribe)."""
    return PortalLinks(
        settings.portal_base_url,
        link_secret(uow, settings),
        settings.link_valid_days,
        settings.unsubscribe_base_url,
    )


@dataclass(frozen=True)
class Unsubscribed:
    status: Literal["valid", "opted_out", "already", "invalid", "expired"]
    customer_id: int | None = None


def check_unsubscribe_link(secret: str, token: str, today: date) -> Unsubscribed:
    """Whether a token is a good unsubscribe link ("valid"); nothing changes."""
    try:
        customer_id = read_link_token(secret, LinkPurpose.UNSUBSCRIBE, token, today)
    except LinkRefused as refused:
        return Unsubscribed("expired" if refused.problem == "expired" else "invalid")
    return Unsubscribed("valid", customer_id)


def unsubscribe_by_link(
    uow: UnitOfWorkFactory, secret: str, token: str, today: date, now: datetime
) -> Unsubscribed:
    """Opt the link's customer out of e-mail (all their addresses), once.

    A link that is not one (an old ``<id>.<signature>`` link, a forgery) or has expired
    changes nothing.
    """
    checked = check_unsubscribe_link(secret, token, today)
    if checked.customer_id is None:
        return checked
    customer_id = checked.customer_id
    with uow() as work:
        changed = opt_out(
            work.connection,
            customer_id=customer_id,
            channel="email",
            reason="pediu pelo link de descadastro do e-mail: não recebe mais e-mails",
            at=now,
        )
        work.commit()
    return Unsubscribed("opted_out" if changed else "already", customer_id)
