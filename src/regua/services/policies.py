"""A creditor's régua versions: stored with their YAML so history says what was in force.

`apply_policy_file` and `policy_versions` are use cases with a unit of work of their own;
`active_policies` and `apply_policy_text` work in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection

from regua.domain.policy import Policy
from regua.domain.policy_checks import KnownNames
from regua.policies.loader import load_policy_text, packaged_policy_names, packaged_policy_text
from regua.store import policies as stored_policies
from regua.store.policies import PolicyVersion
from regua.store.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class AppliedPolicy:
    """A policy file made active: the policy, and the active version of its name before."""

    policy: Policy
    previous: Policy | None


def active_policies(connection: Connection, creditor_id: int, now: datetime) -> list[Policy]:
    """The creditor's active policies; on first use the packaged default becomes active."""
    rows = stored_policies.active_sources(connection, creditor_id)
    if not rows:
        for name in packaged_policy_names():
            apply_policy_text(
                connection, creditor_id, packaged_policy_text(name), f"{name}.yaml", now
            )
        return active_policies(connection, creditor_id, now)
    return [_parsed_policy(source, f"{name}.yaml") for name, source in rows]


@lru_cache(maxsize=64)
def _parsed_policy(text: str, source: str) -> Policy:
    # Parsing and checking a policy costs ~7 ms, most of a webhook call that settles one
    # invoice; the text is the key, so a new version is parsed when it appears.
    return load_policy_text(text, source)


def apply_policy_text(
    connection: Connection,
    creditor_id: int,
    text: str,
    source: str,
    now: datetime,
    known: KnownNames | None = None,
) -> Policy:
    """Make this policy text the active version of its name; older versions stay for history.

    With `known` (the template library's names), a template or script it lacks is refused.
    """
    policy = load_policy_text(text, source, known)
    # New offsets are the planner's concern: its next run sees other active versions than its
    # last one recorded, and looks at every open invoice again.
    stored_policies.activate(
        connection,
        creditor_id,
        name=policy.name,
        version=policy.version,
        text=text,
        priority=policy.assign.priority,
        now=now,
    )
    return policy


def apply_policy_file(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    path: Path,
    now: datetime,
    known: KnownNames | None = None,
) -> AppliedPolicy:
    """Make the policy in `path` the active version of its name, committed.

    `known` lists the templates and call scripts dispatch can render; a name outside it is
    refused here rather than at the first send.
    """
    with uow() as work:
        before = {p.name: p for p in active_policies(work.connection, creditor_id, now)}
        policy = apply_policy_text(
            work.connection,
            creditor_id,
            path.read_text(encoding="utf-8"),
            path.name,
            now,
            known,
        )
        work.commit()
    return AppliedPolicy(policy, before.get(policy.name))


def policy_versions(uow: UnitOfWorkFactory, creditor_id: int) -> list[PolicyVersion]:
    """Every stored version of the creditor's policies, the active ones and their history."""
    with uow() as work:  # read only: nothing to commit
        return stored_policies.versions(work.connection, creditor_id)


def segmentation_policy(active: list[Policy]) -> Policy:
    """Segments are defined once, by the creditor's default policy (the one without `assign`)."""
    for policy in active:
        if policy.assign.is_default:
            return policy
    return active[0]
