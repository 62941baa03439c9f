"""The in-process queue of SQLite writers (`store.sqlite_writes`): every write lands, a writer
that fails or goes away frees the file for the next, and one that holds it too long makes the
next fail as SQLite itself would."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from regua.store import sqlite_writes
from regua.store.db import make_engine

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("author", String, nullable=False),
    Column("text", String, nullable=False, unique=True),
)


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'writes.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(notes)).scalar_one())


def test_writers_of_many_threads_all_land(engine) -> None:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []

    def write(author: int) -> None:
        try:
            for k in range(40):
                with engine.connect() as connection:
                    # a read before the write, as a page does, then two writes in one transaction
                    connection.execute(select(func.count()).select_from(notes)).scalar_one()
                    connection.execute(
                        notes.insert(), {"author": str(author), "text": f"{author}a{k}"}
                    )
                    connection.execute(
                        notes.insert(), {"author": str(author), "text": f"{author}b{k}"}
                    )
                    connection.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert _count(engine) == 8 * 40 * 2


def test_a_failed_write_frees_the_file_for_the_next_writer(
    engine,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sqlite_writes, "WAIT_SECONDS", 2.0)
    with engine.begin() as connection:
        connection.execute(notes.insert(), {"author": "a", "text": "once"})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(notes.insert(), {"author": "a", "text": "twice"})
        connection.execute(notes.insert(), {"author": "a", "text": "once"})  # not unique
    # a writer that went away in the middle of its transaction, without commit or rollback
    abandoned = engine.connect()
    abandoned.execute(notes.insert(), {"author": "b", "text": "lost"})
    abandoned.close()

    done: list[str] = []

    def other() -> None:
        with engine.begin() as connection:
            connection.execute(notes.insert(), {"author": "c", "text": "next"})
        done.append("ok")

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(10)
    assert done == ["ok"]
    with engine.connect() as connection:
        texts = set(connection.execute(select(notes.c.text)).scalars())
    assert texts == {"once", "next"}  # the failed and the abandoned transactions left nothing


def test_a_writer_held_past_the_wait_makes_the_next_fail_like_sqlite(
    engine,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sqlite_writes, "WAIT_SECONDS", 0.2)
    failures: list[BaseException] = []

    def other() -> None:
        try:
            with engine.begin() as connection:
                connection.execute(notes.insert(), {"author": "b", "text": "waited"})
        except OperationalError as error:
            failures.append(error)

    with engine.connect() as holder:
        holder.execute(notes.insert(), {"author": "a", "text": "held"})
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(10)
        holder.commit()
    assert len(failures) == 1 and "database is locked" in str(failures[0])
    # once the holder committed, the file is free again
    with engine.begin() as connection:
        connection.execute(notes.insert(), {"author": "b", "text": "after"})
    assert _count(engine) == 2
