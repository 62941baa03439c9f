"""The demo makes agreements and promises, some kept and some broken."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from regua.bootstrap import build_app
from regua.config import Settings
from regua.services.demo import build_demo, demo_database_url
from regua.services.negotiation_sheet import negotiation_sheet
from regua.services.promises import list_promises


def test_the_demo_has_agreements_and_promises_kept_and_broken(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    demo_app = build_app(Settings(), database_url=demo_database_url(folder))
    try:
        build_demo(
            folder,
            uow=demo_app.uow,
            settings=demo_app.settings,
            customers=150,
            seed=5,
            today=date(2026, 11, 23),
            now=datetime(2026, 11, 23, 12, tzinfo=UTC),
            days=2,
        )
        sheet = negotiation_sheet(demo_app.uow, 1)
        promised = list_promises(demo_app.uow, 1)
    finally:
        demo_app.close()
    statuses = Counter(line.status for line in sheet)
    assert statuses["completed"] >= 1 and statuses["active"] >= 1 and statuses["broken"] >= 1
    assert {"kept", "broken"} <= {p.status for p in promised}
    assert all(line.paid_cents <= line.total_cents for line in sheet)
