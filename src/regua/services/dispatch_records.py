"""Recording what became of a claimed message, through the store (`store.transitions`), each
record with its timeline entry and only while the claim is still the dispatcher's: sent (with
the provider's id), back to planned for a retry with backoff, failed (and the contact flagged
when the recipient is invalid), cancelled or held."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection

from regua.channels.base import Receipt
from regua.clock import Clock
from regua.domain.channels import channel_label
from regua.domain.retries import attempts_exhausted, backoff_delay
from regua.services.contact_flags import flag_invalid_contact
from regua.services.dispatch_run import DispatchOptions, DispatchResult
from regua.services.dispatch_timeline import (
    duration_pt,
    exhausted_reason,
    not_sent_entry,
    sent_detail,
    timeline_entry,
)
from regua.services.messages import NotSendable, PreparedMessage
from regua.services.senders import Senders
from regua.store.claims import recorded_sent
from regua.store.transitions import (
    SentRecord,
    claim_attempts,
    record_cancelled,
    record_failed,
    record_held,
    record_retry,
    record_sent,
)

log = logging.getLogger(__name__)


class Recorder:
    """The records of one dispatcher (its clock, options and jitter); each writes into the
    `DispatchResult` it is given."""

    def __init__(
        self,
        clock: Clock,
        options: DispatchOptions,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.clock = clock
        self.options = options
        self.jitter = jitter

    def lost(self, action_id: int, result: DispatchResult) -> None:
        log.warning("claim on action %s was taken over after the lease", action_id)
        result.lost_claims += 1

    def sent(
        self,
        senders: Senders,
        item: PreparedMessage,
        token: str,
        receipt: Receipt,
        result: DispatchResult,
        billed_units: int = 1,
        *,
        retried: bool = False,
    ) -> None:
        sent = SentRecord(
            action_id=item.action_id,
            token=token,
            customer_id=item.customer_id,
            channel=item.channel,
            sent_at=receipt.accepted_at,
            provider_message_id=receipt.provider_message_id,
            at=self.clock.now(),
            detail=sent_detail(item),
            data={
                "provider_message_id": receipt.provider_message_id,
                "idempotency_key": item.idempotency_key,
                "template": item.template,
                "step": item.step_id,
            },
            billed_units=billed_units,
        )
        if not record_sent(senders.connections, sent) and not (
            retried and self._recorded_sent(senders, item.action_id, token)
        ):
            self.lost(item.action_id, result)
            return
        result.sent[item.channel] += 1

    def _recorded_sent(self, senders: Senders, action_id: int, token: str) -> bool:
        # A record tried again may find its first try committed (the answer was lost).
        with senders.connections.transaction() as connection:
            return recorded_sent(connection, action_id, token)

    def retry(
        self,
        senders: Senders,
        item: PreparedMessage,
        token: str,
        reason: str,
        retry_after: float | None,
        result: DispatchResult,
    ) -> None:
        now = self.clock.now()
        with senders.connections.transaction() as connection:
            attempts = claim_attempts(connection, item.action_id)
            if attempts_exhausted(attempts, self.options.max_attempts):
                self._fail(
                    connection, item, token, now, exhausted_reason(attempts, reason), False, result
                )
                return
            delay = backoff_delay(
                attempts,
                base=self.options.backoff_base,
                cap=self.options.backoff_cap,
                jitter=self.jitter(),
                retry_after=retry_after,
            )
            label = channel_label(item.channel)
            entry = timeline_entry(
                item,
                now,
                "retry",
                f"Falha temporária no envio por {label} (tentativa {attempts}): {reason} "
                f"Nova tentativa em {duration_pt(delay)}.",
                {"attempt": attempts, "next_attempt_at": (now + delay).isoformat()},
            )
            if not record_retry(
                connection,
                item.action_id,
                token,
                next_attempt_at=now + delay,
                reason=reason,
                entry=entry,
            ):
                self.lost(item.action_id, result)
                return
        result.retrying[item.channel] += 1

    def failed(
        self,
        senders: Senders,
        item: PreparedMessage,
        token: str,
        reason: str,
        invalid_recipient: bool,
        result: DispatchResult,
    ) -> None:
        now = self.clock.now()
        with senders.connections.transaction() as connection:
            self._fail(connection, item, token, now, reason, invalid_recipient, result)

    def _fail(
        self,
        connection: Connection,
        item: PreparedMessage,
        token: str,
        now: datetime,
        reason: str,
        invalid_recipient: bool,
        result: DispatchResult,
    ) -> None:
        label = channel_label(item.channel)
        entry = timeline_entry(
            item,
            now,
            "failed",
            f"Envio por {label} para {item.to} não realizado: {reason}",
            {"invalid_recipient": invalid_recipient},
        )
        if not record_failed(connection, item.action_id, token, reason=reason, entry=entry):
            self.lost(item.action_id, result)
            return
        result.failed[item.channel] += 1
        if invalid_recipient and flag_invalid_contact(
            connection, item.customer_id, item.channel, item.to, now, action_id=item.action_id
        ):
            result.contacts_flagged += 1

    def cancelled(
        self, senders: Senders, item: NotSendable, token: str, result: DispatchResult
    ) -> None:
        entry = not_sent_entry(item, self.clock.now())
        record = record_held if item.held else record_cancelled
        with senders.connections.transaction() as connection:
            if not record(connection, item.action_id, token, reason=item.reason, entry=entry):
                self.lost(item.action_id, result)
                return
        if item.held:
            result.held[item.channel or "-"] += 1
            result.held_reasons[item.reason] += 1
        else:
            result.cancelled[item.channel or "-"] += 1
