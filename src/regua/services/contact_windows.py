"""Which due actions may be contacted now: the contact window of the régua version each batch
was planned with (read once per version and kept), opened per customer state at this instant
(`domain.calendar.open_states`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Connection

from regua.domain.calendar import (
    DEFAULT_CONTACT_WINDOW,
    DEFAULT_TIMEZONE,
    UFS,
    ContactWindow,
    open_states,
)
from regua.policies.loader import load_policy_text
from regua.store.claims import OpenScope, Scope, due_scopes
from regua.store.policy_versions import policy_version_source

log = logging.getLogger(__name__)

# Printed and posted: a letter reaches no one at an hour of the day, so no contact window holds
# it back (the planner already keeps it off closed days).
UNWINDOWED_CHANNELS = frozenset({"letter"})


def scope_window(connection: Connection, scope: Scope) -> tuple[ContactWindow, str]:
    """The contact window and time zone of the régua version the actions were planned with."""
    row = policy_version_source(
        connection, scope.creditor_id, scope.policy_name, scope.policy_version
    )
    if row is None:
        log.warning(
            "policy %s version %s not stored: using the default contact window",
            scope.policy_name,
            scope.policy_version,
        )
        return DEFAULT_CONTACT_WINDOW, DEFAULT_TIMEZONE
    policy = load_policy_text(row.source, f"{row.name}.yaml")
    return policy.contact_window, policy.timezone


class ContactWindows:
    """The windows of the régua versions seen so far, shared by threads under a lock (a stored
    version never changes, so they are read once per process)."""

    def __init__(self) -> None:
        self._windows: dict[Scope, tuple[ContactWindow, str]] = {}
        self._lock = threading.Lock()

    def window(self, connection: Connection, scope: Scope) -> tuple[ContactWindow, str]:
        with self._lock:
            cached = self._windows.get(scope)
        if cached is not None:
            return cached
        found = scope_window(connection, scope)
        with self._lock:
            self._windows[scope] = found
        return found

    def open_scopes(
        self,
        connection: Connection,
        *,
        day: date,
        now: datetime,
        lease: timedelta,
        channels: Sequence[str],
        action_ids: Sequence[int] | None = None,
    ) -> list[OpenScope]:
        """The régua versions with actions due now on `channels` (among `action_ids` when
        given), each with the customer states open at `now`; versions open nowhere are left
        out."""
        scopes = due_scopes(
            connection,
            today=day,
            now=now,
            lease=lease,
            channels=channels,
            action_ids=action_ids,
        )
        opened = []
        if scopes and set(channels) <= UNWINDOWED_CHANNELS:
            return [OpenScope(scope, UFS, True) for scope in scopes]
        for scope in scopes:
            window, timezone = self.window(connection, scope)
            states = open_states(window, timezone, now)
            if states.any:
                opened.append(OpenScope(scope, states.ufs, states.unknown_uf_open))
        return opened
