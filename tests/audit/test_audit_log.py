"""`audit log` prints the history readably; `audit export` writes a workbook an evaluator can check alone."""

from __future__ import annotations

import hashlib
import json

import openpyxl
from click.testing import CliRunner

from mou_tracker.cli import cli
from mou_tracker.read import EventFilter, Reader, entity_kind
from mou_tracker.services import Reason
from tests.audit.conftest import event_count
from tests.helpers import milestone


def run(db_url: str, *args: str):
    return CliRunner().invoke(cli, ["--db", db_url, *args])


def test_log_of_one_milestone(programme, db_url):
    out = run(db_url, "audit", "log", "--entity", "Milestones", "--id", "m01")
    assert out.exit_code == 0, out.output
    blocks = out.stdout.split("\n#")
    assert len(blocks) == 3  # created, re-planned, completed
    assert "tester  created milestone M01" in blocks[0] and "Title: Milestone M01" in blocks[0]
    assert "updated milestone M01" in blocks[1]
    assert "Due date: 2025-08-30 -> 2025-09-20" in blocks[1]
    assert "Status: Not started -> In progress" in blocks[1]
    assert "Reason: re-planning agreed by both parties: validation moved" in blocks[1]
    assert "Completed on: (empty) -> 2025-09-25" in blocks[2]
    assert "2025-09-25" in blocks[2].splitlines()[0]  # when, in UTC


def test_log_filters_and_errors(programme, db, db_url, tmp_path):
    whole = run(db_url, "audit", "log")
    assert whole.exit_code == 0 and whole.stdout.count("\n#") + 1 == event_count(db)
    trainings = run(db_url, "audit", "log", "--entity", "training")
    assert trainings.stdout.count("created training") == 2 and "milestone" not in trainings.stdout
    since = run(db_url, "audit", "log", "--since", "2025-09-01")
    assert "created training T2" in since.stdout and "created training T1" not in since.stdout
    assert run(db_url, "audit", "log", "--id", "NOPE").stdout.strip() == "No audit events match."
    bad = run(db_url, "audit", "log", "--entity", "spaceship")
    assert bad.exit_code == 2 and "not a kind of record" in bad.output
    # an empty --id (a script's unset variable) was read as "every record": the whole trail came out
    for command in (["log"], ["export", str(tmp_path / "out.xlsx")]):
        empty = run(db_url, "audit", *command, "--id", " ")
        assert empty.exit_code == 2 and "--id" in empty.output and "is empty" in empty.output, empty.output
        assert "created training" not in empty.output
    assert not (tmp_path / "out.xlsx").exists()


def test_entity_kind_spellings():
    assert entity_kind("Milestones") == "milestone"
    assert entity_kind("budget line") == "budget_line"
    assert entity_kind("sign-off") == "period_signoff"
    assert entity_kind("attendances") == "attendance"


def test_record_history(programme, db):
    with Reader(db) as reader:
        history = reader.history("milestone", 1)
    assert [e.action for e in history] == ["create", "update", "update"]
    due = [(c.old, c.new, e.reason) for e in history if e.action == "update" for c in e.visible
           if c.label == "Due date"]
    assert [(str(old), str(new), reason) for old, new, reason in due] == [
        ("2025-08-30", "2025-09-20", "re-planning agreed by both parties: validation moved")]


def test_export_workbook_lets_an_evaluator_recompute_the_chain(programme, db, db_url, tmp_path):
    programme.create_milestone(milestone("M03", "2025-12-01", evidence="=HYPERLINK(\"http://x\")"),
                             reason=Reason("other", "@mention -1"))
    path = tmp_path / "trail.xlsx"
    out = run(db_url, "audit", "export", str(path))
    assert out.exit_code == 0, out.output
    assert f"Exported {event_count(db)} audit events" in out.stdout and "chain verified OK" in out.stdout
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["About", "Events", "Changes", "Sign-offs", "Locks", "Restatements"]
    events = wb["Events"]
    header = [c.value for c in events[1]]
    assert events.freeze_panes == "A2" and "Events" in events.tables
    rows = [dict(zip(header, r, strict=True)) for r in events.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == event_count(db)
    previous = "0" * 64
    for r in rows:  # the chain, recomputed from the workbook alone
        payload = {"seq": r["Seq"], "occurred_at": r["Occurred at (canonical)"], "actor": r["Actor"],
                   "action": r["Action"], "entity_kind": r["Entity kind"], "entity_id": r["Entity ID"],
                   "entity_ref": r["Reference"], "partnership_id": r["Partnership ID"],
                   "changes": r["Changes (canonical JSON)"] + (r["Changes (canonical JSON, continued)"] or ""),
                   "reason_category": r["Reason category"], "reason_text": r["Reason text"],
                   "prev_hash": r["Previous hash"]}
        if r["Login"] is not None:
            payload["login"] = r["Login"]
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(text.encode()).hexdigest() == r["Hash"]
        assert r["Previous hash"] == previous
        previous = r["Hash"]
    # text that looks like a formula stays text
    m03 = [r for r in rows if r["Reference"] == "M03"][0]
    assert "=HYPERLINK" in m03["Changes"] and m03["Reason text"] == "@mention -1"
    cell = [c for c in events[len(rows) + 1] if c.value == "@mention -1"][0]
    assert cell.data_type == "s"
    changes = wb["Changes"]
    fields = [(r[6], r[7], r[8]) for r in changes.iter_rows(min_row=2, values_only=True)]
    assert ("Due date", "2025-08-30", "2025-09-20") in fields
    about = {r[0]: r[1] for r in wb["About"].iter_rows(values_only=True) if r and r[0]}
    assert about["Verification"].startswith("OK: ")
    assert "How to verify" in about


def test_export_a_filtered_part(programme, db, db_url, tmp_path):
    path = tmp_path / "m01.xlsx"
    out = run(db_url, "audit", "export", str(path), "--entity", "milestone", "--id", "M01")
    assert out.exit_code == 0 and "Exported 3 audit events" in out.stdout
    wb = openpyxl.load_workbook(path)
    assert wb["Events"].max_row == 4
    assert run(db_url, "audit", "export", str(tmp_path / "x.csv")).exit_code == 1  # refused: not .xlsx


def test_event_filter_partnership_scope(programme, db):
    with Reader(db) as reader:
        assert reader.count_entries(EventFilter(partnership_id=programme.partnership_id)) == event_count(db)
        # only the events of no partnership: the partnership row itself and the first user
        assert reader.count_entries(EventFilter(partnership_id=999)) == 2


def test_a_rate_is_shown_as_entered_and_never_in_scientific_form(programme, db_url):
    programme.create_grant({"code": "G1", "funder": "HTI", "currency": "USD", "amount": "1000000",
                            "start_date": "2025-05-12", "end_date": "2028-05-11"})
    programme.create_budget_line({"code": "BL1", "name": "Trainings", "amount": "500000"}, grant_code="G1")
    spend = {"code": "X1", "date": "2025-08-01", "line_code": "BL1", "description": "Venue", "amount": "1000",
             "currency": "KES"}
    programme.create_expenditure({**spend, "rate": "0.0077405"}, grant_code="G1")
    tiny = programme.create_expenditure({**spend, "code": "X2", "rate": "0.000000000123"}, grant_code="G1")
    assert tiny.notes == ["Rate: 0.000000000123 has more than 10 decimal places; rounded half-up to 0.0000000001"]
    out = run(db_url, "audit", "log", "--entity", "expenditure")
    assert out.exit_code == 0, out.output
    assert "Rate: 0.0077405\n" in out.stdout and "Rate: 0.0000000001\n" in out.stdout, out.stdout
    assert "Amount: 1000.00" in out.stdout  # money keeps its cents
