"""Importing through ``import_workbook``: everything lands, upserts by ID, idempotent, all problems listed,
nothing written on any problem; on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mou_tracker.db.models import (
    Attendance,
    AuditEvent,
    BudgetLine,
    Disbursement,
    Engagement,
    Expenditure,
    Grant,
    Milestone,
    Participant,
    Result,
    Target,
    Training,
)
from mou_tracker.domain.periods import Quarter
from mou_tracker.errors import PermissionDenied, ValidationError
from mou_tracker.imports import import_workbook
from mou_tracker.imports.sheets import PARTICIPANTS, TRAININGS
from mou_tracker.services import Services
from mou_tracker.services.indicators import IndicatorEngine
from mou_tracker.services.records import GRANT_FIELDS
from tests.imports.helpers import audit_count, chain_intact, refused, sample_sheets, snapshot, write_book


def count(db, model):
    with db.reading() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def figures(services, period="2025-Q3"):
    with services.db.reading() as s:
        return IndicatorEngine(s, services.partnership_id).progress(Quarter.parse(period)).by_code()


def test_a_full_workbook_lands_in_every_table(services, db, tmp_path):
    outcome = import_workbook(services, write_book(tmp_path / "f.xlsx", sample_sheets()))
    assert outcome.ok and outcome.written, outcome.problem_lines()
    assert {s.sheet: (s.new, s.changed, s.unchanged) for s in outcome.sheets} == {
        "Trainings": (2, 0, 0), "Participants": (4, 0, 0), "Engagements": (2, 0, 0), "Milestones": (2, 0, 0),
        "Results": (1, 0, 0), "Targets": (2, 0, 0), "Grant": (1, 0, 0), "Budget": (2, 0, 0),
        "Disbursements": (2, 0, 0), "Expenditures": (2, 0, 0)}
    assert [count(db, m) for m in (Training, Attendance, Participant, Engagement, Milestone, Result, Target, Grant,
                                   BudgetLine, Disbursement, Expenditure)] == [2, 4, 3, 2, 2, 1, 2, 1, 2, 2, 2]
    with db.reading() as s:
        tr2 = s.execute(select(Training).where(Training.code == "TR-2")).scalar_one()
        assert (tr2.county, tr2.delivery, tr2.lead, tr2.start_date) == ("Mombasa", "Hybrid", "Joint",
                                                                         date(2025, 9, 29))
        amina = s.execute(select(Participant).where(Participant.staff_number == "ODPP101")).scalar_one()
        assert amina.name == "Amina Ali"  # one person, seen twice with different spellings
        kes = s.execute(select(Expenditure).where(Expenditure.code == "EX-2")).scalar_one()
        assert (kes.amount, kes.rate, kes.amount_grant) == (Decimal("129000.00"), Decimal("0.007700"),
                                                            Decimal("993.30"))
        line = s.execute(select(BudgetLine).where(BudgetLine.code == "BL2")).scalar_one()
        assert line.category == "Technical support"
    got = figures(services)
    assert got["1.1"].period_actual == 1 and got["1.1"].period_target == 2  # TR-2 ends in Q4
    assert got["1.2"].period_actual == 2 and got["1.3"].period_actual == 1
    assert got["OC1"].period_actual == 7 and got["2.2"].period_actual == 1 and got["2.3"].period_actual == Decimal(
        "8.5")
    moved = {m.code: m for m in outcome.indicators}
    assert [(m.quarter, m.what, m.before, m.after) for m in moved["1.1"].moves] == [
        ("2025-Q3", "actual", 0, 1), ("2025-Q3", "target", None, 2), ("2025-Q4", "actual", 0, 1)]
    assert chain_intact(db)


def test_importing_the_same_file_twice_changes_nothing_the_second_time(services, db, tmp_path):
    path = write_book(tmp_path / "f.xlsx", sample_sheets())
    assert import_workbook(services, path).ok
    events, before = audit_count(db), snapshot(db)
    again = import_workbook(services, path)
    assert again.ok and again.written
    assert all(s.new == 0 and s.changed == 0 and s.unchanged == s.rows > 0 for s in again.sheets)
    assert again.indicators == []
    assert audit_count(db) == events and snapshot(db) == before


def test_an_id_differing_from_another_only_in_capitals_is_noted(services, db, tmp_path):
    """IDs are compared exactly: 'tr-1' beside a stored 'TR-1' makes a second training. That stays so (an ID
    is the user's own key), but it was done without a word; the dry run now says so before anything is
    written, and the import says it again."""
    import_workbook(services, write_book(tmp_path / "v1.xlsx", sample_sheets()))
    first = {"Title": "Digital evidence", "Topic": "Digital", "Start date": date(2025, 8, 11),
             "End date": date(2025, 8, 12), "County": "Kisumu"}
    sheets = {"Trainings": [{"Training ID": "tr-1", **first}, {"Training ID": "TR-9", **first},
                            {"Training ID": "Tr-9", **first}, {"Training ID": "TR-2", **first}],
              "Engagements": [{**sample_sheets()["Engagements"][0], "Engagement ID": "ts-1"}]}
    path = write_book(tmp_path / "v2.xlsx", sheets)
    expected = [
        "Trainings!A2: the ID 'tr-1' differs from 'TR-1' (a stored record) only in capitals; IDs are compared "
        "exactly, so it makes a new record",
        "Trainings!A4: the ID 'Tr-9' differs from 'TR-9' (row 3) only in capitals; IDs are compared exactly, so "
        "it makes a new record",
        "Engagements!A2: the ID 'ts-1' differs from 'TS-1' (a stored record) only in capitals; IDs are compared "
        "exactly, so it makes a new record"]
    dry = import_workbook(services, path, dry_run=True)
    assert dry.ok and [n for n in dry.notes if "capitals" in n] == expected
    assert [n for n in dry.summary_lines() if "capitals" in n] == expected
    outcome = import_workbook(services, path)
    assert outcome.ok and [n for n in outcome.notes if "capitals" in n] == expected
    assert (outcome.sheet("Trainings").new, outcome.sheet("Trainings").changed) == (3, 1)
    assert count(db, Training) == 5 and count(db, Engagement) == 3


def test_a_reference_differing_only_in_capitals_says_which_id_was_meant(services, db, tmp_path):
    import_workbook(services, write_book(tmp_path / "v1.xlsx", sample_sheets()))
    sheets = {"Trainings": [{**sample_sheets()["Trainings"][1], "Training ID": "TR-7"}],
              "Participants": [{"Training ID": "tr-1", "Name": "Jane Doe", "Sex": "F", "Agency": "ODPP"},
                               {"Training ID": "tr-7", "Name": "Jane Doe", "Sex": "F", "Agency": "ODPP"},
                               {"Training ID": "TR-8", "Name": "Jane Doe", "Sex": "F", "Agency": "ODPP"}],
              "Expenditures": [{**sample_sheets()["Expenditures"][0], "Expenditure ID": "EX-9", "Line code": "bl1",
                                "Engagement ID": "ts-2"}],
              "Targets": [{"Indicator code": "oc1", "Period": "2025-Q3", "Target": 3}],
              "Budget": [{"Grant code": "hti-ke-1", "Line code": "BL9", "Name": "Other", "Category": "Training",
                          "Amount": 10}]}
    hint = " (IDs are compared exactly, capitals included: did you mean '{}'?)"
    assert refused(services, write_book(tmp_path / "v2.xlsx", sheets)) == [
        "Participants!A2: Training ID: no training 'tr-1' in this file or the database" + hint.format("TR-1"),
        "Participants!A3: Training ID: no training 'tr-7' in this file or the database" + hint.format("TR-7"),
        "Participants!A4: Training ID: no training 'TR-8' in this file or the database",
        "Expenditures!C2: Line code: no budget line 'bl1' in grant HTI-KE-1" + hint.format("BL1"),
        "Expenditures!I2: Engagement ID: no engagement 'ts-2' in this file or the database" + hint.format("TS-2"),
        "Targets!A2: Indicator code: no indicator 'oc1' in this partnership" + hint.format("OC1"),
        "Budget!E2: Grant code: no grant 'hti-ke-1' in this file or the database" + hint.format("HTI-KE-1")]


def test_a_corrected_and_extended_file_updates_adds_and_never_duplicates(services, db, tmp_path):
    sheets = sample_sheets()
    import_workbook(services, write_book(tmp_path / "v1.xlsx", sheets))
    events = audit_count(db)
    sheets["Trainings"][0]["Title"] = "Evidence in trafficking cases"
    sheets["Trainings"].append({"Training ID": "TR-3", "Title": "Digital evidence", "Topic": "Digital",
                                "Start date": date(2025, 8, 11), "End date": date(2025, 8, 12), "County": "Kisumu"})
    sheets["Participants"][1]["Post-test score"] = 75
    sheets["Participants"].append({"Training ID": "TR-3", "Name": "John Otieno", "Sex": "M", "Agency": "DCI"})
    outcome = import_workbook(services, write_book(tmp_path / "v2.xlsx", sheets))
    assert outcome.ok, outcome.problem_lines()
    trainings, participants = outcome.sheet("Trainings"), outcome.sheet("Participants")
    assert (trainings.new, trainings.changed, trainings.unchanged) == (1, 1, 1)
    assert trainings.changes[0].where == "Trainings!A2" and trainings.changes[0].fields == {
        "Title": ("Evidence in CTIP cases", "Evidence in trafficking cases")}
    assert (participants.new, participants.changed, participants.unchanged) == (1, 1, 3)
    assert dict(participants.fields) == {"Post-test score": 1}
    assert count(db, Training) == 3 and count(db, Participant) == 3 and count(db, Attendance) == 5
    with db.reading() as s:
        new_events = s.execute(select(AuditEvent).where(AuditEvent.seq > events).order_by(AuditEvent.seq)).scalars()
        kinds = sorted((e.action, e.entity_kind) for e in new_events)
    assert kinds == [("create", "attendance"), ("create", "training"), ("update", "attendance"),
                     ("update", "training")]
    assert "1.1 Training sessions held: 2025-Q3 1 -> 2" in "\n".join(outcome.summary_lines())
    assert chain_intact(db)


def test_changes_that_need_a_reason_use_the_reason_column_or_are_refused(services, db, tmp_path):
    sheets = {"Milestones": sample_sheets()["Milestones"]}
    import_workbook(services, write_book(tmp_path / "v1.xlsx", sheets))
    sheets["Milestones"][1]["Due date"] = date(2026, 1, 31)
    before = snapshot(db)
    refused = import_workbook(services, write_book(tmp_path / "v2.xlsx", sheets))
    assert refused.problem_lines() == [
        "Milestones!I3: moving the due date of M2 from 2025-12-15 to 2026-01-31 needs a reason (category and text)"]
    assert snapshot(db) == before and not refused.written
    sheets["Milestones"][1]["Reason"] = "re-planning agreed by both parties: guidelines wait for the new Act"
    outcome = import_workbook(services, write_book(tmp_path / "v3.xlsx", sheets))
    assert outcome.ok and outcome.sheet("Milestones").changed == 1
    with db.reading() as s:
        event = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        m2 = s.execute(select(Milestone).where(Milestone.code == "M2")).scalar_one()
    assert (event.entity_ref, event.reason_category, event.reason_text) == (
        "M2", "re-planning agreed by both parties", "guidelines wait for the new Act")
    assert (m2.original_due_date, m2.due_date) == (date(2025, 12, 15), date(2026, 1, 31))


def test_every_problem_is_listed_and_nothing_is_written(services, db, tmp_path):
    sheets = sample_sheets()
    sheets["Trainings"][1].update({"County": "Atlantis", "End date": "02/10/2025", "Title": None})
    sheets["Trainings"].append(dict(sheets["Trainings"][0], **{"End date": date(2025, 6, 30)}))
    sheets["Participants"][0]["Sex"] = "X"
    sheets["Participants"][1]["Training ID"] = "TR-404"
    sheets["Participants"][3]["Post-test score"] = 170
    sheets["Engagements"][0]["Case reference"] = None
    sheets["Milestones"][1]["Completed on"] = date(2025, 9, 1)
    sheets["Results"][0]["Indicator code"] = "1.1"
    sheets["Targets"].append({"Indicator code": "9.9", "Period": "2025-Q5", "Target": -1})
    sheets["Expenditures"][0]["Line code"] = "BL9"
    sheets["Expenditures"][1]["Rate"] = None
    before = snapshot(db)
    outcome = import_workbook(services, write_book(tmp_path / "bad.xlsx", sheets))
    assert not outcome.written and snapshot(db) == before
    assert outcome.problem_lines() == [
        "Trainings!B3: Title is required",
        "Trainings!E3: End date '02/10/2025' is not a date; write it as YYYY-MM-DD",
        "Trainings!F3: County 'Atlantis' is not one of Kenya's 47 counties",
        "Trainings!A4: Training ID 'TR-1' is already on row 2; each appears once per file",
        "Trainings!E4: End date 2025-06-30 is before the start date 2025-07-01",
        "Participants!C2: Sex 'X' is not one of: F, M",
        "Participants!A3: Training ID: no training 'TR-404' in this file or the database",
        "Participants!H5: Post-test score 170.00 is above the maximum of 100",
        "Engagements!E2: Case reference is required for Case mentoring",
        "Milestones!G3: Completed on is only for Completed milestones (status is In progress)",
        "Results!A2: Indicator code: indicator 1.1 is computed from the records; it takes no manual value",
        "Targets!A4: Indicator code: no indicator '9.9' in this partnership",
        "Targets!B4: Period '2025-Q5' is not a quarter; write it as YYYY-Qn, e.g. 2025-Q3",
        "Targets!C4: Target -1.00 is negative; it must be 0 or more",
        "Expenditures!C2: Line code: no budget line 'BL9' in grant HTI-KE-1",
        "Expenditures!G3: Rate is required: KES differs from the grant currency USD (amount x rate = amount in USD)",
    ]
    assert outcome.sheets == [] and outcome.summary_lines()[0].startswith("Nothing was imported from bad.xlsx: 16")


def test_rows_may_refer_to_records_already_in_the_database(services, db, tmp_path):
    sheets = sample_sheets()
    import_workbook(services, write_book(tmp_path / "v1.xlsx", {k: sheets[k] for k in ("Trainings", "Grant",
                                                                                        "Budget")}))
    later = {"Participants": sheets["Participants"], "Expenditures": sheets["Expenditures"]}
    outcome = import_workbook(services, write_book(tmp_path / "v2.xlsx", later))
    assert outcome.ok, outcome.problem_lines()
    assert count(db, Attendance) == 4 and count(db, Expenditure) == 2


def test_a_dry_run_previews_exactly_and_writes_nothing(services, db, tmp_path):
    path = write_book(tmp_path / "f.xlsx", sample_sheets())
    before = snapshot(db)
    preview = import_workbook(services, path, dry_run=True)
    assert preview.ok and not preview.written and snapshot(db) == before
    assert preview.summary_lines()[0] == "Dry run of f.xlsx: the file is valid; nothing was written. Importing it " \
                                         "would make:"
    real = import_workbook(services, path)
    assert [(s.sheet, s.new, s.changed, s.unchanged) for s in preview.sheets] == [
        (s.sheet, s.new, s.changed, s.unchanged) for s in real.sheets]
    assert preview.indicators == real.indicators and preview.indicators


def test_a_missing_column_keeps_values_and_an_empty_cell_clears_them(services, db, tmp_path):
    sheets = {"Trainings": sample_sheets()["Trainings"][:1]}
    import_workbook(services, write_book(tmp_path / "v1.xlsx", sheets))
    without_venue = [{k: v for k, v in sheets["Trainings"][0].items() if k != "Venue"}]
    path = write_book(tmp_path / "v2.xlsx", {"Trainings": without_venue})
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb["Trainings"].delete_cols(7)  # no Venue column at all
    wb.save(path)
    kept = import_workbook(services, path)
    assert kept.sheet("Trainings").unchanged == 1
    cleared = import_workbook(services, write_book(tmp_path / "v3.xlsx", {"Trainings": [
        dict(sheets["Trainings"][0], Venue=None)]}))
    assert dict(cleared.sheet("Trainings").fields) == {"Venue": 1}
    with db.reading() as s:
        assert s.execute(select(Training.venue)).scalar_one() is None


def test_headers_and_sheet_names_match_loosely_and_extra_columns_are_ignored(services, db, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = " trainings "
    ws.append(["  TRAINING id", "title*", "Topic", "Start Date", "end date", "County", "Notes of our own"])
    ws.append(["T-9", "Trial advocacy", "Advocacy", "2025-07-07", "2025-07-08", "Nakuru", "ignored"])
    wb.create_sheet("Our own notes").append(["anything"])
    wb.save(tmp_path / "loose.xlsx")
    outcome = import_workbook(services, tmp_path / "loose.xlsx")
    assert outcome.ok, outcome.problem_lines()
    assert outcome.sheet(" trainings ").new == 1
    assert outcome.notes == ["Sheet 'Our own notes' is not one of the import sheets; it was ignored."]


def test_disbursements_without_a_reference_are_matched_by_date_amount_and_currency(services, db, tmp_path):
    sheets = {k: sample_sheets()[k] for k in ("Grant", "Disbursements")}
    import_workbook(services, write_book(tmp_path / "v1.xlsx", sheets))
    again = import_workbook(services, write_book(tmp_path / "v2.xlsx", sheets))
    assert again.sheet("Disbursements").unchanged == 2 and count(db, Disbursement) == 2
    sheets["Disbursements"].append(dict(sheets["Disbursements"][1]))
    twice = import_workbook(services, write_book(tmp_path / "v3.xlsx", sheets))
    assert twice.problem_lines() == [
        "Disbursements!E4: row 3 has the same date, amount and currency and neither has a Reference; give each "
        "disbursement a Reference to tell them apart"]


def test_a_disbursement_reference_differing_only_in_capitals_is_noted_on_its_row(services, db, tmp_path):
    """A row is matched to a disbursement by its Reference, exactly: 'tranche-1' is a new disbursement beside
    TRANCHE-1, which the dry run and the import now say, naming the cell."""
    sheets = {k: sample_sheets()[k] for k in ("Grant", "Disbursements")}
    import_workbook(services, write_book(tmp_path / "v1.xlsx", sheets))
    sheets["Disbursements"].append({"Date": date(2025, 9, 1), "Amount": 5, "Currency": "USD",
                                    "Reference": "tranche-1"})
    note = ("Disbursements!A4: Reference: 'tranche-1' differs from the stored 'TRANCHE-1' only in capitals; "
            "references are compared exactly, so it is another disbursement")
    dry = import_workbook(services, write_book(tmp_path / "v2.xlsx", sheets), dry_run=True)
    assert note in dry.notes and count(db, Disbursement) == 2
    done = import_workbook(services, write_book(tmp_path / "v2.xlsx", sheets))
    assert note in done.notes and done.sheet("Disbursements").new == 1 and count(db, Disbursement) == 3
    again = import_workbook(services, write_book(tmp_path / "v2.xlsx", sheets))
    assert again.sheet("Disbursements").unchanged == 3 and not any("capitals" in n for n in again.notes)


def test_money_rows_need_an_unambiguous_grant(services, db, tmp_path):
    sheets = sample_sheets()
    no_grant = import_workbook(services, write_book(tmp_path / "a.xlsx", {"Budget": sheets["Budget"]}))
    assert no_grant.problem_lines() == ["Budget!A1: the partnership has no grant yet; add a Grant sheet with the "
                                        "grant these rows belong to"]
    two = [sheets["Grant"][0], dict(sheets["Grant"][0], **{"Grant code": "OTHER-1"})]
    ambiguous = import_workbook(services, write_book(tmp_path / "b.xlsx", {"Grant": two, "Budget": sheets["Budget"]}))
    assert ambiguous.problem_lines() == [
        "Budget!A1: the Grant sheet lists several grants (HTI-KE-1, OTHER-1); add a Grant code column to say which "
        "grant each row belongs to"]
    named = [dict(row, **{"Grant code": "OTHER-1"}) for row in sheets["Budget"]]
    outcome = import_workbook(services, write_book(tmp_path / "c.xlsx", {"Grant": two, "Budget": named}))
    assert outcome.ok, outcome.problem_lines()
    with db.reading() as s:
        assert s.execute(select(Grant.code).join(BudgetLine, BudgetLine.grant_id == Grant.id)).scalars().all() == [
            "OTHER-1", "OTHER-1"]


def test_a_second_grant_in_another_currency_is_refused(services, db, tmp_path):
    """Indicator 4.1 adds the grants' spending in "the grant currency": a KES grant beside a USD one made it
    85 USD + 50,000 KES = 50,085. A partnership's grants share one currency, in a workbook and one by one."""
    sheets = sample_sheets()
    assert import_workbook(services, write_book(tmp_path / "a.xlsx", {"Grant": sheets["Grant"]})).ok
    before = snapshot(db)
    kes = dict(sheets["Grant"][0], **{"Grant code": "KE-CO-1", "Currency": "KES", "Amount": 5000000})
    outcome = import_workbook(services, write_book(tmp_path / "b.xlsx", {"Grant": [kes]}))
    assert outcome.problem_lines() == [
        "Grant!C2: Currency: KES differs from USD, the currency of this partnership's grant HTI-KE-1; a "
        "partnership's grants share one currency, since indicator 4.1 adds their spending and USD and KES do not "
        "add (record the grant in USD, or as a partnership of its own)"]
    assert snapshot(db) == before
    # a second grant in the same currency is welcome; turning it into KES later is refused the same way
    assert import_workbook(services, write_book(tmp_path / "c.xlsx", {"Grant": [dict(kes, Currency="USD")]})).ok
    values = {f.attr: kes[f.label] for f in GRANT_FIELDS}
    with pytest.raises(ValidationError) as refusal:
        services.update_grant("KE-CO-1", values)
    assert [(p.field, p.message.split(";")[0]) for p in refusal.value.problems] == [
        ("Currency", "KES differs from USD, the currency of this partnership's grant HTI-KE-1")]
    with db.reading() as s:
        assert sorted(s.execute(select(Grant.code, Grant.currency)).all()) == [("HTI-KE-1", "USD"),
                                                                                ("KE-CO-1", "USD")]


def test_rows_imported_in_bulk_equal_rows_saved_one_by_one(services, db, tmp_path, fresh_services):
    """New trainings and participants go through the batch path; what it leaves is exactly what the per-row
    service methods leave (the same person seen twice, a role given later, scores, spellings)."""
    sheets = {k: sample_sheets()[k] for k in ("Trainings", "Participants")}
    sheets["Participants"].append({"Training ID": "TR-2", "Name": "John Otieno", "Sex": "M", "Agency": "DCI",
                                   "Role": "Investigator"})
    assert import_workbook(services, write_book(tmp_path / "f.xlsx", sheets)).ok
    one = fresh_services("one_by_one")
    for row in sheets["Trainings"]:
        one.create_training({f.attr: row.get(f.label) for f in TRAININGS.columns})
    for row in sheets["Participants"]:  # one by one: a person recognised again is edited explicitly
        values = {f.attr: row.get(f.label) for f in PARTICIPANTS.columns}
        known = one.recognise_participant(values)
        one.add_attendance(values)
        if known is not None:
            one.update_participant(known.participant_id, {a: values[a] for a in ("sex", "agency", "role")
                                                          if values.get(a)})
    assert _register(one.db) == _register(db)


def _register(db):
    with db.reading() as s:
        trainings = sorted(tuple(r[2:]) for r in s.execute(select(Training.__table__)).all())
        people = sorted(tuple(r[2:]) for r in s.execute(select(Participant.__table__)).all())
        attendance = sorted(s.execute(select(Training.code, Participant.key, Attendance.pre_score,
                                             Attendance.post_score)
                                      .join(Training, Training.id == Attendance.training_id)
                                      .join(Participant, Participant.id == Attendance.participant_id)).all())
    return trainings, people, attendance


def test_a_read_only_session_cannot_import(db, tmp_path):
    Services(db, "tester").seed_standard()
    with pytest.raises(PermissionDenied):
        import_workbook(Services(db, "tester", read_only=True), write_book(tmp_path / "f.xlsx", sample_sheets()))


def test_a_row_with_a_bad_cell_still_has_its_fields_judged_together(services, db, tmp_path):
    """The rules on fields together (the service layer's) are listed with a row's cell problems, not only once
    those are corrected; a rule about a cell that has its own problem is not repeated."""
    sheets = sample_sheets()
    sheets["Engagements"][0].update({"County": "Atlantis", "Case reference": None})
    sheets["Engagements"][1].update({"Type": "Case mentoring", "Hours": 3.555})
    sheets["Milestones"][0].update({"Title": None, "Completed on": None})
    sheets["Milestones"][1].update({"Due date": "soon", "Completed on": date(2025, 9, 1)})
    sheets["Expenditures"][1].update({"Description": None, "Rate": None})
    sheets["Expenditures"][0].update({"Amount": 1.234, "Currency": "KES", "Rate": "x"})
    sheets["Grant"][0].update({"Funder": None, "End date": date(2025, 1, 1)})
    assert refused(services, write_book(tmp_path / "bad.xlsx", sheets)) == [
        "Engagements!D2: County 'Atlantis' is not one of Kenya's 47 counties",
        "Engagements!E2: Case reference is required for Case mentoring",
        "Engagements!E3: Case reference is required for Case mentoring",
        "Engagements!F3: Hours 3.555 has more than 2 decimal places",
        "Milestones!B2: Title is required",
        "Milestones!G2: Completed on is required when the status is Completed",
        "Milestones!E3: Due date 'soon' is not a date; write it as YYYY-MM-DD",
        "Milestones!G3: Completed on is only for Completed milestones (status is In progress)",
        "Grant!B2: Funder is required",
        "Grant!F2: End date 2025-01-01 is before the start date 2025-05-12",
        "Expenditures!E2: Amount 1.234 has more than 2 decimal places",
        "Expenditures!G2: Rate 'x' is not a number",
        "Expenditures!D3: Description is required",
        "Expenditures!G3: Rate is required: KES differs from the grant currency USD (amount x rate = amount in USD)",
    ]


def test_a_fractional_count_in_the_results_sheet_is_refused_not_rounded(services, db, tmp_path):
    sheets = {"Results": [{"Indicator code": "OC1", "Period": "2025-Q3", "Value": 2.5},
                          {"Indicator code": "OC1", "Period": "2025-Q4", "Value": 2.5}]}
    assert refused(services, write_book(tmp_path / "half.xlsx", sheets)) == [
        f"Results!C{n}: Value 2.5 is not a whole number; indicator OC1 counts cases in whole numbers" for n in (2, 3)]
