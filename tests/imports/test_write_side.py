"""Issue 9, the import side: one person on several rows is resolved once per file (recorded name kept, other
attributes from the last row, compared once), so re-importing an unchanged file always writes nothing; the dry
run lists every change per person, notes spellings and rounded rates with their cells; an exchange rate of 7
places reaches indicator 4.1 exactly; edge cells are refused one line each. On SQLite and PostgreSQL."""

import json
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mou_tracker.cli import cli
from mou_tracker.db.models import Expenditure, Participant
from mou_tracker.imports import import_workbook
from tests.imports.helpers import audit_count, write_book

TRAININGS = [{"Training ID": "TR-1", "Title": "Evidence", "Topic": "Evidence", "Start date": date(2025, 7, 1),
              "End date": date(2025, 7, 2), "County": "Mombasa"},
             {"Training ID": "TR-2", "Title": "Trial advocacy", "Topic": "Trials", "Start date": date(2025, 8, 4),
              "End date": date(2025, 8, 5), "County": "Kisumu"}]


def person(training, name, role=None, sex="F", agency="ODPP", staff="ODPP101", **kw):
    row = {"Training ID": training, "Name": name, "Sex": sex, "Agency": agency, "Role": role, "Staff number": staff}
    row.update(kw)
    return row


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


def test_one_person_on_two_rows_with_different_roles_is_idempotent(services, db, tmp_path):
    rows = [person("TR-1", "Amina Ali", "Prosecutor"), person("TR-2", "Amina Ali", "Senior prosecutor")]
    path = write_book(tmp_path / "a.xlsx", {"Trainings": TRAININGS, "Participants": rows})
    assert import_workbook(services, path).written
    with db.reading() as s:
        assert s.execute(select(Participant.name, Participant.role)).all() == [("Amina Ali", "Senior prosecutor")]
    for _ in range(3):  # every re-import: nothing changes, no event
        events = audit_count(db)
        again = import_workbook(services, path)
        assert again.ok and audit_count(db) == events
        assert again.sheet("Participants").line() == "Participants: 0 new, 0 changed, 2 unchanged"


def test_attributes_follow_the_last_row_and_the_dry_run_lists_each_change_per_person(services, db, tmp_path):
    first = [person("TR-1", "Amina Ali", "Prosecutor")]
    assert import_workbook(services, write_book(tmp_path / "a.xlsx", {"Trainings": TRAININGS,
                                                                       "Participants": first})).written
    pid = services.recognise_participant({"staff_number": "ODPP101"}).participant_id
    rows = [person("TR-1", "Amina Ali", "Prosecutor"), person("TR-2", "AMINA  ALI", "Prosecutor"),
            person("TR-2", "Amina Ali-Mohamed", "Head of unit", staff="odpp 101")]
    # the third row is the same person as the second (same staff number): a duplicate on one training
    rows = rows[:2] + [dict(rows[2], **{"Training ID": "TR-1"})]
    path = write_book(tmp_path / "b.xlsx", {"Trainings": TRAININGS, "Participants": rows})
    events = audit_count(db)
    dry = import_workbook(services, path, dry_run=True)
    assert not dry.ok  # TR-1 listed twice for one person
    rows = [person("TR-1", "Amina Ali", "Prosecutor"), person("TR-2", "AMINA  ALI", "Head of unit", sex="F")]
    path = write_book(tmp_path / "c.xlsx", {"Trainings": TRAININGS, "Participants": rows})
    dry = import_workbook(services, path, dry_run=True)
    assert dry.ok and audit_count(db) == events
    lines = dry.summary_lines()
    assert "  Participants: 1 new, 1 changed, 1 unchanged" not in lines  # a row is one thing: new or not
    assert any(f"P-{pid}: Role Prosecutor -> Head of unit" in line for line in lines), lines
    assert f"Participants!B3: 'AMINA ALI' is participant P-{pid}, recorded as 'Amina Ali'; the recorded name is " \
           "kept" in dry.notes
    assert import_workbook(services, path).written
    with db.reading() as s:
        assert s.execute(select(Participant.name, Participant.role)).all() == [("Amina Ali", "Head of unit")]
    events = audit_count(db)
    assert import_workbook(services, path).written and audit_count(db) == events


def test_a_new_person_spelled_two_ways_in_one_file_keeps_the_first_spelling(services, db, tmp_path):
    rows = [person("TR-1", "Jane Wanjiru", staff=None, agency="DCI"),
            person("TR-2", "jane   WANJIRU", role="Investigator", staff=None, agency="DCI", sex="F")]
    outcome = import_workbook(services, write_book(tmp_path / "a.xlsx", {"Trainings": TRAININGS,
                                                                          "Participants": rows}))
    assert outcome.written
    assert outcome.notes == ["Participants!B3: 'jane WANJIRU' is the same person as row 2 ('Jane Wanjiru'); that "
                             "name is kept"]
    with db.reading() as s:
        assert s.execute(select(Participant.name, Participant.role)).all() == [("Jane Wanjiru", "Investigator")]


def test_a_returning_participant_is_not_renamed_by_a_register(services, db, tmp_path):
    services.create_training({"code": "T0", "title": "Earlier", "topic": "Evidence", "start_date": date(2025, 6, 2),
                              "end_date": date(2025, 6, 3), "county": "Nairobi"})
    services.add_attendance({"training_code": "T0", "name": "Amina Ali", "sex": "F", "agency": "ODPP",
                             "staff_number": "ODPP101"})
    rows = [person("TR-1", "A. Mohamed", staff="ODPP 101")]
    assert import_workbook(services, write_book(tmp_path / "a.xlsx", {"Trainings": TRAININGS,
                                                                       "Participants": rows})).written
    with db.reading() as s:
        assert s.execute(select(Participant.name)).scalars().all() == ["Amina Ali"]


GRANT = [{"Grant code": "HTI-KE-1", "Funder": "HTI", "Currency": "USD", "Amount": 1200000,
          "Start date": date(2025, 5, 12), "End date": date(2028, 5, 11)}]
BUDGET = [{"Line code": "BL1", "Name": "Trainings", "Category": "Training", "Amount": 500000}]


def test_kes_at_a_7_place_rate_reaches_indicator_4_1_exactly(db_url, db, tmp_path):
    assert run("--db", db_url, "init").exit_code == 0
    spend = [{"Expenditure ID": "EX-1", "Date": date(2025, 8, 14), "Line code": "BL1", "Description": "Venue",
              "Amount": 1000000, "Currency": "KES", "Rate": "0.0077405"}]
    path = write_book(tmp_path / "money.xlsx", {"Grant": GRANT, "Budget": BUDGET, "Expenditures": spend})
    done = run("--db", db_url, "import", str(path))
    assert done.exit_code == 0, done.stderr
    with db.reading() as s:
        assert s.execute(select(Expenditure.rate, Expenditure.amount_grant)).one() == (
            Decimal("0.0077405"), Decimal("7740.50"))
    result = run("--db", db_url, "progress", "--period", "2025-Q3", "--format", "json")
    assert result.exit_code == 0, result.stderr
    figures = {i["code"]: i for i in json.loads(result.stdout)["indicators"]}
    assert figures["4.1"]["period_actual"] == 7740.5


def test_a_rate_with_more_than_10_places_is_rounded_with_a_note_naming_its_cell(db_url, db, tmp_path):
    assert run("--db", db_url, "init").exit_code == 0
    spend = [{"Expenditure ID": "EX-1", "Date": date(2025, 8, 14), "Line code": "BL1", "Description": "Venue",
              "Amount": 1000000, "Currency": "KES", "Rate": 1 / 129.1913}]
    path = write_book(tmp_path / "money.xlsx", {"Grant": GRANT, "Budget": BUDGET, "Expenditures": spend})
    for args in (["--dry-run"], []):
        result = run("--db", db_url, "import", str(path), *args)
        assert result.exit_code == 0, result.stderr
        notes = [line for line in result.stdout.splitlines() if line.startswith("Expenditures!G2: Rate:")]
        # a cell's float is read to its 15 significant digits (what Excel shows), then rounded to 10 places
        assert notes == ["Expenditures!G2: Rate: 0.00774045930337414 has more than 10 decimal places; rounded "
                         "half-up to 0.0077404593"], result.stdout
    with db.reading() as s:
        assert s.execute(select(Expenditure.rate, Expenditure.amount_grant)).one() == (
            Decimal("0.0077404593"), Decimal("7740.46"))


def test_money_with_3_places_and_edge_cells_are_refused_one_line_each(db_url, db, tmp_path):
    assert run("--db", db_url, "init").exit_code == 0
    spend = [{"Expenditure ID": "EX-1", "Date": date(2025, 8, 14), "Line code": "BL1", "Description": "Venue",
              "Amount": "10.005", "Currency": "USD"},
             {"Expenditure ID": "EX-2", "Date": "2101-01-01", "Line code": "BL1", "Description": "Venue",
              "Amount": float("inf"), "Currency": "USD"}]
    path = write_book(tmp_path / "money.xlsx", {"Grant": GRANT, "Budget": BUDGET, "Expenditures": spend})
    result = run("--db", db_url, "import", str(path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("Expenditures!E2: Amount") and "more than 2 decimal places" in line for line in lines)
    assert any(line.startswith("Expenditures!B3: Date") and "outside the accepted range" in line for line in lines)
    assert any(line.startswith("Expenditures!E3: Amount") for line in lines), lines


def test_a_milestone_completed_in_the_future_is_refused_on_its_cell(services, db, tmp_path):
    rows = [{"Milestone ID": "M1", "Title": "SOP", "Due date": date(2025, 9, 1), "Status": "Completed",
             "Completed on": date(2099, 1, 1)}]
    outcome = import_workbook(services, write_book(tmp_path / "m.xlsx", {"Milestones": rows}))
    assert [p.where for p in outcome.problems] == ["Milestones!G2"]
    assert outcome.problems[0].message.startswith("Completed on 2099-01-01 is in the future (today is ")


def test_import_updates_by_id_and_lists_every_changed_field(services, db, tmp_path):
    engagements = [{"Engagement ID": "TS-066", "Date": date(2025, 8, 3), "Type": "Case mentoring",
                    "County": "Mombasa", "Case reference": "CTIP/1", "Hours": 3}]
    assert import_workbook(services, write_book(tmp_path / "a.xlsx", {"Engagements": engagements})).written
    changed = [dict(engagements[0], Hours=4, County="Kisumu")]
    dry = import_workbook(services, write_book(tmp_path / "b.xlsx", {"Engagements": changed}), dry_run=True)
    assert "  Engagements: 0 new, 1 changed (County, Hours), 0 unchanged" in dry.summary_lines()
    assert "    Engagements!A2 TS-066: County Mombasa -> Kisumu; Hours 3 -> 4" in dry.summary_lines()


def test_the_bulk_path_without_events_is_for_a_rolled_back_dry_run_only(services):
    from mou_tracker.db.models import Training

    row = {"partnership_id": services.partnership_id, "code": "TR-X", "title": "T", "topic": "Evidence",
           "start_date": date(2025, 7, 1), "end_date": date(2025, 7, 1), "county": "Nairobi"}
    with pytest.raises(ValueError, match="only for a dry run"):
        services.bulk_insert("training", Training, [row], audit=False)
    with services.unit_of_work() as uow:
        services.bulk_insert("training", Training, [row], audit=False)
        with pytest.raises(RuntimeError, match="never committed"):
            uow.commit()
    with services.db.reading() as s:
        assert s.execute(select(Training.code)).scalars().all() == []
