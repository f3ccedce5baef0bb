"""One reader, live or as of a day, on both backends: the state and the trail of that day, from any thread."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from click.testing import CliRunner

from mou_tracker.cli import cli
from mou_tracker.domain.periods import Quarter
from mou_tracker.read import ListRequest, Reader


def progress_json(db_url: str, *args: str) -> dict:
    out = CliRunner().invoke(cli, ["--db", db_url, "progress", "--period", "2025-Q3", "--format", "json", *args])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_live_and_as_of_through_the_same_reader(programme, db, db_url):
    with Reader(db) as live, Reader(db, as_of=date(2025, 8, 31)) as then:
        assert live.progress(Quarter(2025, 3)).as_json() == progress_json(db_url)
        assert then.progress(Quarter(2025, 3)).as_json() == progress_json(db_url, "--as-of", "2025-08-31")
        now_m, now_history = live.milestone_history("M01")
        then_m, then_history = then.milestone_history("M01")
        assert now_m is not None and then_m is not None
        assert (now_m.status, now_m.completed_on) == ("Completed", date(2025, 9, 25))
        assert (then_m.status, then_m.completed_on, then_m.due_date) == ("In progress", None, date(2025, 9, 20))
        # the trail as of the day stops at its end: the same entries, fewer of them
        assert [e.action for e in now_history] == ["create", "update", "update"]
        assert then_history == now_history[:2]
        assert then.events().total < live.events().total
        assert then.chain_head().seq == then_history[-1].seq < live.chain_head().seq
        assert [t.code for t in then.trainings().rows] == ["T1"]  # T2 was entered in September


def test_an_as_of_reader_serves_any_thread(programme, db):
    """The rebuilt state lives on one thread; the reader hands every call to it (Textual workers call it)."""
    with Reader(db, as_of=date(2025, 8, 31)) as then, ThreadPoolExecutor(max_workers=4) as pool:
        pages = list(pool.map(lambda _: then.trainings(ListRequest()), range(8)))
        milestones = list(pool.map(lambda code: then.milestone(code), ["M01", "M02"] * 3))
    assert {tuple(r.code for r in p.rows) for p in pages} == {("T1",)}
    assert {m.code for m in milestones if m is not None} == {"M01", "M02"}


def test_the_partnership_is_looked_up_once_and_clearly(programme, db):
    import pytest

    from mou_tracker.errors import NotFound

    with Reader(db, partnership="NOPE") as reader, pytest.raises(NotFound, match="no partnership 'NOPE' \\(known: "):
        reader.trainings()
    assert Reader(db).partnership_id == programme.partnership_id
