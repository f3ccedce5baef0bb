"""`audit verify`: the intact trail passes; each kind of tampering is detected and pinpointed (both backends)."""

from __future__ import annotations

import hashlib

from click.testing import CliRunner
from sqlalchemy import select

from mou_tracker.cli import cli
from mou_tracker.db.guards import GENESIS_HASH
from mou_tracker.db.models import AuditEvent
from mou_tracker.services.verify import verify_chain
from tests.audit.conftest import drop_guards, event_count, forge_event, hash_of, raw_sql, seq_of


def kinds(result):
    return [p.kind for p in result.problems]


def test_intact_trail_passes_with_count_and_head(programme, db, db_url):
    n = event_count(db)
    with db.reading() as s:
        head = s.execute(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    result = verify_chain(db)
    assert result.ok, result.findings
    assert (result.events, result.head) == (n, head)
    out = CliRunner().invoke(cli, ["--db", db_url, "audit", "verify"])
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == f"OK: {n} events, head {head}"


def test_empty_trail_is_ok(db):
    result = verify_chain(db)
    assert result.ok and result.events == 0 and result.head == GENESIS_HASH


def test_edited_event_field_is_named(programme, db, db_url):
    target = seq_of(db, "training", "T2")
    drop_guards(db)
    raw_sql(db, f"UPDATE audit_event SET actor = 'mallory' WHERE seq = {target}")
    result = verify_chain(db)
    assert not result.ok
    first = result.first_problem
    assert (first.kind, first.seq) == ("altered", target)
    assert f"event #{target} was altered" in first.message and "mallory" in first.message
    out = CliRunner().invoke(cli, ["--db", db_url, "audit", "verify"])
    assert out.exit_code == 1
    assert out.stdout.startswith("FAILED:")
    assert f"event #{target} was altered" in out.stdout
    assert "error: the audit trail failed verification" in out.stderr


def test_edited_event_with_recomputed_hash_is_named(programme, db):
    target = seq_of(db, "milestone", "M02")
    drop_guards(db)
    with db.reading() as s:
        event = s.get(AuditEvent, target)
    from mou_tracker.services.audit import compute_hash, event_payload

    fields = {k: getattr(event, k) for k in ("seq", "occurred_at", "action", "entity_kind", "entity_id",
                                             "entity_ref", "partnership_id", "changes", "reason_category",
                                             "reason_text", "prev_hash")}
    forged = compute_hash(event_payload(actor="mallory", **fields))
    raw_sql(db, f"UPDATE audit_event SET actor = 'mallory', hash = '{forged}' WHERE seq = {target}")
    first = verify_chain(db).first_problem
    assert (first.kind, first.seq) == ("altered", target)
    assert "hash recomputed" in first.message


def test_deleted_event_is_named(programme, db):
    target = seq_of(db, "engagement", "E1")
    drop_guards(db)
    raw_sql(db, f"DELETE FROM audit_event WHERE seq = {target}")
    result = verify_chain(db)
    first = result.first_problem
    assert (first.kind, first.seq) == ("removed", target)
    assert f"#{target} removed" in first.message
    # the record that event created now has no event: the replay says so too
    assert any(p.kind == "added" and p.entity_kind == "engagement" for p in result.problems)


def test_deleted_event_with_renumbering_is_named(programme, db):
    target = seq_of(db, "engagement", "E1")
    drop_guards(db)
    raw_sql(db, f"DELETE FROM audit_event WHERE seq = {target}",
            f"UPDATE audit_event SET seq = -seq WHERE seq > {target}",
            "UPDATE audit_event SET seq = -seq - 1 WHERE seq < 0")
    result = verify_chain(db)
    chain = [p for p in result.problems if p.kind in ("altered", "removed", "inserted", "reordered")]
    assert len(chain) == 1, result.findings  # the renumbered events after it are not listed one by one
    assert (chain[0].kind, chain[0].seq) == ("removed", target)


def test_forged_event_inserted_in_the_middle_is_named(programme, db):
    target = seq_of(db, "training", "T2")
    drop_guards(db)
    raw_sql(db, f"UPDATE audit_event SET seq = -seq WHERE seq >= {target}",
            "UPDATE audit_event SET seq = -seq + 1 WHERE seq < 0")
    forge_event(db, target, hash_of(db, target - 1), changes='{"title":["Milestone M01","Forged title"]}')
    result = verify_chain(db)
    chain = [p for p in result.problems if p.kind in ("altered", "removed", "inserted", "reordered")]
    assert [(p.kind, p.seq) for p in chain] == [("inserted", target)], result.findings
    assert f"event(s) #{target} inserted (forged)" in chain[0].message
    # the forged event renames milestone M01: the table never saw it
    assert any(p.kind == "changed" and p.entity_kind == "milestone" for p in result.problems)


def test_forged_event_appended_at_the_end_is_named_by_the_replay(programme, db):
    n = event_count(db)
    drop_guards(db)
    forge_event(db, n + 1, hash_of(db, n), changes='{"title":["Milestone M01","Rewritten history"]}')
    result = verify_chain(db)
    changed = [p for p in result.problems if p.kind == "changed"]
    assert len(changed) == 1 and changed[0].entity_kind == "milestone"
    assert f"its last event is #{n + 1}" in changed[0].message
    assert "'Rewritten history' in the trail" in changed[0].message


def test_forged_event_with_a_bad_link_is_named(programme, db):
    n = event_count(db)
    drop_guards(db)
    forge_event(db, n + 1, hash_of(db, n - 3), entity_kind="narrative", entity_id=None)
    first = verify_chain(db).first_problem
    assert (first.kind, first.seq) == ("reordered", n + 1)
    assert f"names #{n - 3} as its predecessor" in first.message


def test_swapped_events_are_named(programme, db):
    a = seq_of(db, "training", "T2")
    drop_guards(db)
    raw_sql(db, f"UPDATE audit_event SET seq = -1 WHERE seq = {a}",
            f"UPDATE audit_event SET seq = {a} WHERE seq = {a + 1}",
            f"UPDATE audit_event SET seq = {a + 1} WHERE seq = -1")
    result = verify_chain(db)
    chain = [p for p in result.problems if p.kind in ("altered", "removed", "inserted", "reordered")]
    assert [(p.kind, p.seq) for p in chain] == [("reordered", a)], result.findings
    assert f"events #{a} and #{a + 1} were swapped" in chain[0].message


def test_milestone_row_updated_with_raw_sql_after_dropping_the_triggers(programme, db):
    drop_guards(db)
    raw_sql(db, "UPDATE milestone SET status = 'Cancelled' WHERE code = 'M02'")
    result = verify_chain(db)
    assert kinds(result) == ["guard", "changed"], result.findings
    guard, changed = result.problems
    assert "audit_event_no_update" in guard.message and "audit_event_no_delete" in guard.message
    assert changed.entity_kind == "milestone" and "M02" in changed.message
    assert "Status is 'Cancelled' in the table but 'Not started' in the trail" in changed.message


def test_training_row_deleted_behind_the_applications_back(programme, db):
    with db.reading() as s:
        from mou_tracker.db.models import Training

        tid = s.execute(select(Training.id).where(Training.code == "T2")).scalar_one()
    raw_sql(db, f"DELETE FROM attendance WHERE training_id = {tid}", f"DELETE FROM training WHERE id = {tid}")
    result = verify_chain(db)
    deleted = [p for p in result.problems if p.kind == "deleted"]
    assert {(p.entity_kind, p.entity_id) for p in deleted if p.entity_kind == "training"} == {("training", tid)}
    assert sum(p.entity_kind == "attendance" for p in deleted) == 2
    assert all(p.kind == "deleted" for p in result.problems)
    assert any("training T2" in p.message and "deleted outside the application" in p.message for p in deleted)


def test_row_added_behind_the_applications_back(programme, db):
    raw_sql(db, "INSERT INTO training (partnership_id, code, title, topic, start_date, end_date, county) "
                "VALUES (1, 'GHOST', 'Never held', 'Evidence', '2025-08-01', '2025-08-01', 'Nairobi')")
    result = verify_chain(db)
    assert kinds(result) == ["added"]
    assert "training GHOST" in result.problems[0].message


def test_money_changed_behind_the_applications_back(programme, db):
    programme.create_grant({"code": "G1", "funder": "HTI", "currency": "USD", "amount": "1000",
                          "start_date": "2025-05-12", "end_date": "2026-05-11"})
    assert verify_chain(db).ok
    if db.dialect == "sqlite":
        raw_sql(db, "UPDATE grant_award SET amount = amount + 1 WHERE code = 'G1'")  # one cent, scaled
    else:
        raw_sql(db, "UPDATE grant_award SET amount = amount + 0.01 WHERE code = 'G1'")
    result = verify_chain(db)
    assert kinds(result) == ["changed"]
    assert "Amount is 1000.01 in the table but 1000.00 in the trail" in result.problems[0].message


def test_anchor_from_an_earlier_head(programme, db, db_url):
    earlier = verify_chain(db).head
    programme.create_training({"code": "T3", "title": "Later", "topic": "Evidence", "start_date": "2025-10-02",
                             "end_date": "2025-10-02", "county": "Nairobi"})
    result = verify_chain(db, anchor=earlier)
    assert result.ok and result.anchor_seq == event_count(db) - 1
    out = CliRunner().invoke(cli, ["--db", db_url, "audit", "verify", "--anchor", earlier[:12].upper()])
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[0].startswith("OK: ")
    assert f"is event #{result.anchor_seq}" in out.stdout


def test_anchor_missing_after_a_rewrite(programme, db, db_url):
    earlier = verify_chain(db).head
    drop_guards(db)
    raw_sql(db, f"DELETE FROM audit_event WHERE hash = '{earlier}'")  # cut the trail back behind the report
    result = verify_chain(db, anchor=earlier)
    assert result.problems[-1].kind == "anchor" and "not in the trail" in result.problems[-1].message
    out = CliRunner().invoke(cli, ["--db", db_url, "audit", "verify", "--anchor", earlier])
    assert out.exit_code == 1 and f"anchor {earlier} is not in the trail" in out.stdout


def test_anchor_that_is_not_a_hash_is_a_usage_error(programme, db_url):
    out = CliRunner().invoke(cli, ["--db", db_url, "audit", "verify", "--anchor", "not-a-hash"])
    assert out.exit_code == 2 and "not an audit-chain hash" in out.output


def test_evidence_files_changed_or_vanished(programme, db, db_url, tmp_path, monkeypatch):
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "m01.pdf").write_bytes(b"%PDF report M01")
    (folder / "m02.txt").write_text("minutes")
    monkeypatch.chdir(folder)  # evidence named relative to where the manager works
    programme.update_milestone("M01", {"code": "M01", "title": "Milestone M01", "due_date": "2025-09-20",
                                       "status": "Completed", "completed_on": "2025-09-25", "evidence": "m01.pdf"})
    programme.update_milestone("M02", {"code": "M02", "title": "Milestone M02", "due_date": "2025-09-15",
                                       "status": "Not started", "evidence": str(folder / "m02.txt")})
    with db.reading() as s:
        from mou_tracker.db.models import Milestone

        recorded = dict(s.execute(select(Milestone.code, Milestone.evidence_sha256)).all())
    assert recorded["M01"] == hashlib.sha256(b"%PDF report M01").hexdigest()
    ok = verify_chain(db, evidence_dir=folder)
    assert ok.ok and ok.evidence_checked == 2
    (folder / "m01.pdf").write_bytes(b"%PDF report M01, edited")
    (folder / "m02.txt").unlink()
    result = verify_chain(db, evidence_dir=folder)
    messages = [p.message for p in result.problems]
    assert [p.kind for p in result.problems] == ["evidence", "evidence"]
    assert any("milestone M01" in m and "has changed" in m for m in messages)
    assert any("milestone M02" in m and "vanished" in m for m in messages)
    out = CliRunner().invoke(cli, ["--db", db_url, "audit", "verify", "--evidence", str(folder)])
    assert out.exit_code == 1 and "m02.txt has vanished" in out.stdout


def test_progress_callback_reaches_the_total(programme, db):
    calls = []
    verify_chain(db, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (event_count(db), event_count(db))


def test_verify_on_the_demo_programme(demo_db):
    result = verify_chain(demo_db)
    assert result.ok, result.findings[:5]
    assert result.events > 1500


def test_record_changed_after_updates_is_named(programme, db):
    """M01 was created and updated twice through the app; a raw edit of it is still caught."""
    assert verify_chain(db).ok
    raw_sql(db, "UPDATE milestone SET title = 'Quietly renamed' WHERE code = 'M01'")
    result = verify_chain(db)
    assert kinds(result) == ["changed"]
    assert "Title is 'Quietly renamed' in the table but 'Milestone M01' in the trail" in result.problems[0].message


def test_large_trail_mode_finds_the_same(programme, db, monkeypatch):
    """On a large trail the chain walk runs in a second process: same verdict, same findings."""
    from mou_tracker.services import verify

    target = seq_of(db, "training", "T2")
    drop_guards(db)
    raw_sql(db, f"UPDATE audit_event SET actor = 'mallory' WHERE seq = {target}",
            "UPDATE milestone SET status = 'Cancelled' WHERE code = 'M02'")
    serial = verify_chain(db)
    monkeypatch.setattr(verify, "PARALLEL_MIN", 1)
    started = []
    real_start = verify._start_child
    monkeypatch.setattr(verify, "_start_child", lambda url: started.append(url) or real_start(url))
    split = verify_chain(db)
    assert started, "the second process was not used"
    assert (split.events, split.head, split.findings) == (serial.events, serial.head, serial.findings)
    assert [p.kind for p in split.problems] == ["altered", "guard", "changed"]
