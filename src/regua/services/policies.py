"""A creditor's régua versions: stored with their YAML so history says what was in force."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection

from regua.domain.policy import Policy
from regua.policies.loader import load_policy_text, packaged_policy_names, packaged_policy_text
from regua.store import policies as stored_policies


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
    connection: Connection, creditor_id: int, text: str, source: str, now: datetime
) -> Policy:
    """Make this policy text the active version of its name; older versions stay for history."""
    policy = load_policy_text(text, source)
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
    connection: Connection, creditor_id: int, path: Path, now: datetime
) -> Policy:
    return apply_policy_text(
        connection, creditor_id, path.read_text(encoding="utf-8"), path.name, now
    )


def segmentation_policy(active: list[Policy]) -> Policy:
    """Segments are defined once, by the creditor's default policy (the one without `assign`)."""
    for policy in active:
        if policy.assign.is_default:
            return policy
    return active[0]
