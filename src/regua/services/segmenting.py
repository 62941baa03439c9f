"""Refresh every customer's behaviour features and segment, set-based.

The features of all customers are one aggregate query over the invoices and the segment rules
(`domain.segments`, first match wins) one SQL CASE over them (`store.segments`), so the
portfolio never travels to Python; only customers whose segment changed are read and written,
each with a row in `segment_history` dated the day it changed, so reports can show movement.

The daily refresh is incremental: after a refresh under the same rules, a customer's segment
can only have moved if one of its invoices was written since (`invoices.updated_at`) or if the
calendar carried one of its invoices across a rule's threshold (`domain.segments.
calendar_crossings`); only those customers are classified again. Anything else (first refresh,
new rules, an earlier day, a clock that went back) classifies every customer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from regua.domain.segments import SegmentRule
from regua.errors import RuleViolation
from regua.services.changes import written_since
from regua.store import segments

# Past this share of the customers, one aggregate over all invoices is cheaper than lookups;
# up to SMALL_SCOPE customers, lookups are cheaper whatever the portfolio.
FULL_REFRESH_SHARE = 0.25
SMALL_SCOPE = 10_000


@dataclass(frozen=True)
class SegmentRefresh:
    changed: int  # customers whose segment changed
    examined: int | None  # customers classified again; None: all of them


def refresh_segments(
    connection: Connection,
    creditor_id: int,
    rules: tuple[SegmentRule, ...],
    today: date,
    now: datetime,
) -> SegmentRefresh:
    """Classify the customers in SQL; write only those whose segment changed.

    Every customer on the first refresh; afterwards only those something could have moved.
    """
    new_digest = rules_digest(rules)
    last = segments.last_refresh(connection, creditor_id)
    scope: list[int] | None = None
    if last is not None and last.rules_digest == new_digest and last.refreshed_on <= today:
        since = written_since(last.refreshed_at, now)
        if since is not None:
            scope = segments.may_have_moved(
                connection, creditor_id, rules, last.refreshed_on, since, today
            )
    if scope is not None and len(scope) > SMALL_SCOPE:
        total = segments.customer_count(connection, creditor_id)
        if len(scope) > FULL_REFRESH_SHARE * total:
            scope = None
    changed = segments.changed_segments(connection, creditor_id, rules, today, scope)
    unclassified = [cid for cid, _old, segment in changed if segment is None]
    if unclassified:
        raise RuleViolation(
            f"{len(unclassified)} clientes sem segmento: a régua precisa de um segmento final "
            "sem condições"
        )
    segments.record_changes(connection, changed, today)
    segments.record_refresh(connection, creditor_id, today, now, new_digest)
    return SegmentRefresh(changed=len(changed), examined=None if scope is None else len(scope))


def rules_digest(rules: tuple[SegmentRule, ...]) -> str:
    """A fingerprint of the rules: a refresh under other rules classifies everyone again."""
    return hashlib.sha256(repr(rules).encode()).hexdigest()[:32]
