"""Is this installation able to work: the database reachable and its schema at this version's
Alembic head, the broker reachable when one is configured; and the counts an operator watches.

Every entry point asks once at start (`require_current_schema`): a database behind the head
is refused with the command that fixes it (`regua db upgrade`), never a SQL error later.
"""

from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError

from regua.error_codes import ErrorCode
from regua.errors import ReguaError
from regua.store import operations_counts
from regua.store.operations_counts import PlanRuns
from regua.store.uow import UnitOfWorkFactory


class SchemaOutdated(ReguaError):
    """The database's schema is not the one this version of regua was written for."""

    code = ErrorCode.SCHEMA_OUTDATED
    http_status = 503


class DatabaseUnavailable(ReguaError):
    """The database cannot be reached (down, refused, unknown host)."""

    code = ErrorCode.DATABASE_UNAVAILABLE
    http_status = 503


# `revision = "0012"` / `down_revision = "0011"` (or None) at the top of each migration file.
_REVISION = re.compile(r'^revision\s*=\s*"([^"]+)"', re.MULTILINE)
_DOWN = re.compile(r'^down_revision\s*=\s*(?:"([^"]+)"|None)', re.MULTILINE)


@functools.cache
def shipped_revisions() -> tuple[str | None, frozenset[str]]:
    """(head, every known revision) of the migrations shipped with this version.

    Read from the files' two assignments rather than through Alembic, which imports every
    migration module (0.13 s at each command's start against 2 ms); any file this reading does
    not understand (a merge, a branch) falls back to Alembic. tests/cli/test_operations.py
    checks both agree."""
    from importlib import resources

    versions = resources.files("regua.store") / "migrations" / "versions"
    revisions: set[str] = set()
    downs: set[str] = set()
    for entry in versions.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        text = entry.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN.search(text)
        if revision is None or down is None:
            return alembic_revisions()
        revisions.add(revision.group(1))
        if down.group(1):
            downs.add(down.group(1))
    heads = revisions - downs
    if len(heads) != 1:
        return alembic_revisions()
    return heads.pop(), frozenset(revisions)


def alembic_revisions() -> tuple[str | None, frozenset[str]]:
    """(head, every revision) as Alembic reads them."""
    from alembic.script import ScriptDirectory

    from regua.store.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return script.get_current_head(), frozenset(r.revision for r in script.walk_revisions())


def head_revision() -> str | None:
    return shipped_revisions()[0]


def check_revision(current: str | None) -> None:
    """Refuse a schema at another revision than the head; None (no regua tables) is let through,
    for the command's own "crie com regua init"."""
    head, known = shipped_revisions()
    if current is None or current == head:
        return
    if current in known:
        raise SchemaOutdated(
            f"o banco está na versão {current}; rode `regua db upgrade` "
            f"(esta versão do regua usa a {head})"
        )
    raise SchemaOutdated(
        f"o banco está na versão {current}, que esta instalação não conhece "
        f"(a dela é {head}): atualize o regua"
    )


def require_current_schema(uow: UnitOfWorkFactory) -> str | None:
    """The database's revision, once it is known to be reachable and current."""
    from regua.store import migrate

    try:
        with uow() as work:
            current = migrate.revision_on(work.connection)
    except DBAPIError as exc:
        raise DatabaseUnavailable(f"banco inacessível: {_first_line(exc)}") from None
    check_revision(current)
    return current


def broker_problem(broker_url: str, timeout: float = 3.0) -> str | None:
    """None when the broker answers a connection; else why not, in one line."""
    from kombu import Connection

    try:
        with Connection(broker_url, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # kombu and its transports raise many types: all mean "down"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"broker inacessível: {type(exc).__name__}: {reason}"
    return None


def queue_depths(
    broker_url: str, queues: dict[str, str], transport_options: dict[str, Any], timeout: float = 3.0
) -> dict[str, int] | None:
    """Messages waiting in each queue (``{label: queue name}``), on Redis or RabbitMQ; None
    when the broker does not answer. A queue the broker does not know holds none (Redis drops
    an empty list)."""
    from kombu import Connection

    depths: dict[str, int] = {}
    try:
        with Connection(
            broker_url, connect_timeout=timeout, transport_options=transport_options
        ) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
            for label, queue in queues.items():
                # A channel per queue: RabbitMQ closes the channel of a failed passive declare.
                channel = connection.channel()
                try:
                    depths[label] = _waiting(channel, queue)
                except Exception:  # not declared yet: nothing waits in it
                    depths[label] = 0
                finally:
                    with contextlib.suppress(Exception):
                        channel.close()
    except Exception:  # kombu and its transports raise many types: all mean "down"
        return None
    return depths


def _waiting(channel: Any, queue: str) -> int:
    # kombu's Redis transport counts every priority list of the queue, under the installation's
    # key prefix (its passive declare ignores the prefix); RabbitMQ answers a passive declare.
    size = getattr(channel, "_size", None)
    if size is not None:
        return int(size(queue))
    return int(channel.queue_declare(queue=queue, passive=True).message_count)


@dataclass
class Readiness:
    """What `/readyz` and `regua doctor` report: each check "ok" or the reason it failed."""

    checks: dict[str, str] = field(default_factory=dict)
    revision: str | None = None
    head: str | None = None

    @property
    def ready(self) -> bool:
        return all(value == "ok" for value in self.checks.values())


def readiness(uow: UnitOfWorkFactory, broker_url: str | None) -> Readiness:
    """The database (reachable, schema at head) and, when given, the broker."""
    result = Readiness(head=head_revision())
    try:
        result.revision = require_current_schema(uow)
        result.checks["database"] = "ok"
        result.checks["schema"] = "ok" if result.revision else "banco sem as tabelas do regua"
    except SchemaOutdated as exc:
        result.checks["database"] = "ok"
        result.checks["schema"] = exc.message
    except DatabaseUnavailable as exc:
        result.checks["database"] = exc.message
    if broker_url:
        result.checks["broker"] = broker_problem(broker_url) or "ok"
    return result


@dataclass(frozen=True)
class OperationsCounts:
    messages: dict[tuple[str, str], int]
    claims_past_lease: int
    plan_runs: PlanRuns
    last_day_run_seconds: float | None = None


def operations_counts_now(
    uow: UnitOfWorkFactory, now: datetime, lease: timedelta
) -> OperationsCounts:
    """The counts `/metrics` exposes, read in one unit of work."""
    with uow() as work:
        return OperationsCounts(
            messages=operations_counts.actions_by_channel_and_status(work.connection),
            claims_past_lease=operations_counts.claims_past_lease(work.connection, now, lease),
            plan_runs=operations_counts.plan_run_totals(work.connection),
            last_day_run_seconds=operations_counts.last_day_run_seconds(work.connection),
        )


def _first_line(exc: DBAPIError) -> str:
    reason = str(exc.orig) if exc.orig is not None else str(exc)
    return reason.strip().splitlines()[0] if reason.strip() else type(exc).__name__
