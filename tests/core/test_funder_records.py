"""What a funder asks for: deviation narratives before sign-off, significant developments, commitments, the
indirect-cost rate, baselines, and the SF-425 lines computed from the records (docs/reference/grant.md,
indicators.md, audit-and-signoff.md)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mou_tracker.cli import cli
from mou_tracker.db.models import AuditEvent, Baseline, BudgetLine, Commitment, Development, Disbursement, Expenditure
from mou_tracker.errors import AlreadyExists, NotFound, ReasonRequired, ValidationError
from mou_tracker.services import Reason, Services
from mou_tracker.services.finance import sf425
from mou_tracker.services.history import state_as_of
from mou_tracker.services.signoff import lock_period
from mou_tracker.services.users import add_user
from mou_tracker.services.verify import verify_chain
from tests.audit.signers import register_signatory
from tests.helpers import as_user, table_counts, training

FIX = Reason("data correction", "typo")


def events(db, kind):
    with db.reading() as s:
        return s.execute(select(AuditEvent.action, AuditEvent.entity_ref, AuditEvent.reason_category)
                         .where(AuditEvent.entity_kind == kind).order_by(AuditEvent.seq)).all()


# Deviation narratives ------------------------------------------------------------------------------------------
@pytest.fixture
def deviating(services, tmp_path):
    """2025-Q3: 1.1 held 3 of 2 (above target), 2.1 none of 4 (below), 1.2 no target; alice signs for HTI."""
    add_user(services, "tester", "admin")
    for n in (1, 2, 3):
        services.create_training(training(f"T{n}", date(2025, 7, 10 * n)))
    services.set_target("1.1", "2025-Q3", 2)
    services.set_target("2.1", "2025-Q3", 4)
    return register_signatory(services, tmp_path / "keys", "alice", "hti")


def test_signoff_is_refused_until_every_deviation_is_explained(services, db, db_url, deviating):
    def sign():
        return CliRunner().invoke(cli, [*as_user(db_url, "alice"), "period", "signoff", "2025-Q3", "--party", "hti",
                                        "--key", str(deviating)])

    before = table_counts(db)
    out = sign()
    assert out.exit_code == 1, out.output
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert ("2025-Q3 cannot be signed off: no narrative explains the deviation from target of 1.1 Training sessions "
            "held (above target); 2.1 Technical-support engagements delivered (below target)") in lines[0]
    assert table_counts(db) == before
    services.set_narrative("1.1", "2025-Q3", "A third session was requested by the county")
    out = sign()
    assert out.exit_code == 1 and "1.1" not in out.stderr and "2.1 Technical-support" in out.stderr
    services.set_narrative("2.1", "2025-Q4", "the wrong quarter explains nothing")
    assert sign().exit_code == 1
    services.set_narrative("2.1", "2025-Q3", "Mentors were on leave; the engagements move to Q4")
    out = sign()
    assert out.exit_code == 0, out.output
    assert "signed off 2025-Q3" in out.stdout


def test_a_quarter_on_track_needs_no_narrative(services, db, deviating):
    services.set_target("1.1", "2025-Q3", 3)
    services.delete_target("2.1", "2025-Q3", FIX)
    from mou_tracker.services.signoff import sign_off

    assert "signed off 2025-Q3" in sign_off(Services(db, "alice"), "2025-Q3", "hti", key=deviating).lines()[0]


# Significant developments -------------------------------------------------------------------------------------
def test_developments_are_recorded_audited_and_checked(services, db):
    r = services.create_development({"date": date(2025, 8, 4), "category": "risk", "text": "Elections may slow "
                                     "court sittings", "reference": "DEV-01"})
    assert r.obj.category == "Risk"  # the vocabulary's own spelling
    services.create_development({"date": date(2025, 9, 1), "category": "Change in context", "text": "New CTIP "
                                 "regulations gazetted"})
    with pytest.raises(AlreadyExists, match="development DEV-01 already exists"):
        services.create_development({"date": date(2025, 9, 2), "category": "Other", "text": "x",
                                     "reference": "DEV-01"})
    with pytest.raises(ValidationError) as bad:
        services.create_development({"date": "2025-13-01", "category": "Rumour", "text": ""})
    assert {p.field for p in bad.value.problems} == {"Date", "Category", "Text"}
    services.update_development(r.obj.id, {"date": date(2025, 8, 4), "category": "Delay",
                                           "text": "Elections slowed court sittings", "reference": "DEV-01"})
    with pytest.raises(ReasonRequired):
        services.delete_development(r.obj.id, None)
    services.delete_development(r.obj.id, FIX)
    assert [e[:2] for e in events(db, "development")] == [("create", "DEV-01"), ("create", "2025-09-01 Change in "
                                                          "context"), ("update", "DEV-01"), ("delete", "DEV-01")]
    with db.reading() as s:
        assert s.execute(select(Development.text)).scalars().all() == ["New CTIP regulations gazetted"]
    assert verify_chain(db).ok


def test_a_development_of_a_locked_quarter_changes_only_with_a_reason(services, db):
    add_user(services, "tester", "admin")
    d = services.create_development({"date": date(2025, 8, 4), "category": "Risk", "text": "Elections"})
    lock_period(services, "2025-Q3", "reported to the donor")
    values = {"date": date(2025, 8, 4), "category": "Risk", "text": "Elections in August"}
    with pytest.raises(ReasonRequired, match="locked period 2025-Q3"):
        services.update_development(d.obj.id, values)
    services.update_development(d.obj.id, values, FIX)
    assert events(db, "development")[-1] == ("update", "2025-08-04 Risk", "data correction")


# Commitments and indirect costs -------------------------------------------------------------------------------
@pytest.fixture
def grant(services):
    services.create_grant({"code": "G1", "funder": "US DOS J/TIP", "currency": "USD", "amount": "500000",
                           "start_date": date(2025, 6, 1), "end_date": date(2027, 5, 31)})
    for code, name, cat in (("BL1", "Trainings", "Training"), ("BL2", "Personnel", "Personnel"),
                            ("BL3", "Equipment", "Other")):
        services.create_budget_line({"code": code, "name": name, "category": cat, "amount": "100000"})
    return services


def commitment(code, day, amount, currency="USD", rate=None, status="Open", line="BL1"):
    return {"code": code, "date": day, "line_code": line, "description": f"Order {code}", "amount": amount,
            "currency": currency, "rate": rate, "status": status}


def test_commitments_follow_the_money_rules(grant, db):
    kes = grant.create_commitment(commitment("C1", date(2025, 7, 1), "100000.05", "KES", "0.0077405"))
    assert kes.obj.rate == Decimal("0.0077405") and kes.obj.amount_grant == Decimal("774.05")  # 774.050387 half-up
    noted = grant.create_commitment(commitment("C2", date(2025, 7, 2), "1000", "KES", "0.00774051234567"))
    assert noted.obj.rate == Decimal("0.0077405123") and any("rounded half-up" in n for n in noted.notes)
    with pytest.raises(ValidationError) as bad:
        grant.create_commitment(commitment("C3", date(2025, 7, 3), "10.005", "KES", None, status="Paid",
                                           line="BL9"))
    assert {str(p) for p in bad.value.problems} >= {
        "Amount: 10.005 has more than 2 decimal places", "Line code: no budget line 'BL9' in grant G1"}
    assert any(p.field == "Status" for p in bad.value.problems)
    with pytest.raises(ValidationError, match="Rate: is required: KES differs"):
        grant.create_commitment(commitment("C3", date(2025, 7, 3), "10", "KES"))
    with pytest.raises(AlreadyExists, match="commitment C1 already exists .Order C1.; open it to change it, or use "
                                            "C2|commitment C1 already exists"):
        grant.create_commitment(commitment("C1", date(2025, 7, 3), "10"))
    grant.update_commitment("C1", commitment("C1", date(2025, 7, 1), "100000.05", "KES", "0.0077405",
                                             status="Liquidated"))
    with pytest.raises(NotFound):
        grant.update_commitment("C9", commitment("C9", date(2025, 7, 1), "1"))
    grant.delete_commitment("C2", FIX)
    assert [e[:2] for e in events(db, "commitment")] == [("create", "C1"), ("create", "C2"), ("update", "C1"),
                                                        ("delete", "C2")]
    with db.reading() as s:
        assert s.execute(select(Commitment.code, Commitment.status)).all() == [("C1", "Liquidated")]
    assert verify_chain(db).ok


def test_indirect_rate_and_base_are_exact_and_audited(grant, db):
    r = grant.set_indirect_rate("26.3512")
    assert r.obj.indirect_rate == Decimal("26.3512")
    with pytest.raises(ValidationError, match="more than 4 decimal places"):
        grant.set_indirect_rate("26.35125")
    with pytest.raises(ValidationError, match="negative"):
        grant.set_indirect_rate("-1")
    grant.set_indirect_base("BL1", True)
    grant.set_indirect_base("BL2", True)
    grant.set_indirect_base("BL2", False)
    with pytest.raises(NotFound):
        grant.set_indirect_base("BL9", True)
    assert [e[:2] for e in events(db, "budget_line")][-3:] == [("update", "BL1"), ("update", "BL2"),
                                                               ("update", "BL2")]
    with db.reading() as s:
        assert s.execute(select(AuditEvent.changes).where(AuditEvent.entity_kind == "grant",
                                                          AuditEvent.action == "update")).scalar_one() == \
            json.dumps({"indirect_rate": [None, "26.3512"]}, separators=(",", ":"))
    assert verify_chain(db).ok


def test_sf425_lines_recomputed_from_the_records(grant, db):
    g = grant
    g.set_indirect_rate("10.5")
    g.set_indirect_base("BL1", True)
    g.set_indirect_base("BL2", True)
    g.create_disbursement({"date": date(2025, 6, 10), "amount": "150000", "currency": "USD", "reference": "TR1"})
    g.create_disbursement({"date": date(2025, 11, 3), "amount": "10000000", "currency": "KES", "rate": "0.0077405",
                           "reference": "TR2"})
    g.create_disbursement({"date": date(2026, 2, 1), "amount": "99", "currency": "USD", "reference": "late"})
    for code, day, line, amount, cur, rate in (
            ("X1", date(2025, 7, 1), "BL1", "12345.67", "USD", None),
            ("X2", date(2025, 8, 1), "BL2", "1000001", "KES", "0.0077405"),
            ("X3", date(2025, 9, 1), "BL3", "5000", "USD", None),
            ("X4", date(2025, 12, 31), "BL1", "333.33", "USD", None),
            ("X5", date(2026, 1, 1), "BL1", "999", "USD", None)):  # after the as-at date
        g.create_expenditure({"code": code, "date": day, "line_code": line, "description": code, "amount": amount,
                              "currency": cur, "rate": rate})
    g.create_commitment(commitment("C1", date(2025, 10, 1), "20000", line="BL3"))
    g.create_commitment(commitment("C2", date(2025, 10, 2), "7000", status="Liquidated"))
    g.create_commitment(commitment("C3", date(2025, 12, 1), "1000000", "KES", "0.0077405"))
    g.create_commitment(commitment("C4", date(2026, 3, 1), "50"))  # after the as-at date
    as_at = date(2025, 12, 31)
    with db.reading() as s:
        [report] = sf425(s, g.partnership_id, as_at)
        disb = s.execute(select(Disbursement)).scalars().all()
        exps = s.execute(select(Expenditure)).scalars().all()
        coms = s.execute(select(Commitment)).scalars().all()
        base_ids = set(s.execute(select(BudgetLine.id).where(BudgetLine.code.in_(["BL1", "BL2"]))).scalars())
    # independently: each record's own amount x rate, half-up to cents, then the SF-425 arithmetic
    cents = Decimal("0.01")

    def usd(x):
        return (x.amount * (x.rate or 1)).quantize(cents, rounding="ROUND_HALF_UP")

    receipts = sum(usd(d) for d in disb if d.date <= as_at)
    direct = sum(usd(x) for x in exps if x.date <= as_at)
    base = sum(usd(x) for x in exps if x.date <= as_at and x.budget_line_id in base_ids)
    indirect = (base * Decimal("0.105")).quantize(cents, rounding="ROUND_HALF_UP")
    open_obl = sum(usd(c) for c in coms if c.date <= as_at and c.status == "Open")
    expected = {"10a": receipts, "10b": direct + indirect, "10c": receipts - direct - indirect,
                "10d": Decimal(500000), "10e": direct + indirect, "10f": open_obl,
                "10g": direct + indirect + open_obl, "10h": Decimal(500000) - direct - indirect - open_obl,
                "11": indirect}
    assert {x.line: x.amount for x in report.lines} == expected
    assert receipts == Decimal("227405.00") and open_obl == Decimal("27740.50")  # 150000 + 77405; 20000 + 7740.50
    assert (report.indirect.rate, report.indirect.base, report.indirect.base_lines) == (Decimal("10.5"), base,
                                                                                        ("BL1", "BL2"))
    assert "3 disbursements" not in report.line("10a").how and "2 disbursements" in report.line("10a").how
    assert "3 expenditures" in report.line("11").how and "BL1, BL2" in report.line("11").how
    assert "2 commitments with status Open" in report.line("10f").how
    assert "draft" in report.draft.lower() and report.notes == ()
    # the state rebuilt from the trail (what every as-of view reads) gives the same lines
    with state_as_of(db, datetime.now(UTC).date(), partnership_id=g.partnership_id) as s:
        assert {x.line: x.amount for x in sf425(s, g.partnership_id, as_at)[0].lines} == expected


def test_sf425_without_a_rate_charges_no_indirect_cost(grant, db):
    grant.create_expenditure({"code": "X1", "date": date(2025, 5, 20), "line_code": "BL1", "description": "pre-award",
                              "amount": "100", "currency": "USD"})
    with db.reading() as s:
        [report] = sf425(s, grant.partnership_id, date(2025, 12, 31))
    assert report.amount("11") == 0 and report.amount("10e") == Decimal(100) and report.indirect.rate is None
    assert report.notes == ("1 expenditure dated before the award start 2025-06-01 are included (pre-award costs)",)


# Baselines ----------------------------------------------------------------------------------------------------
def test_baselines_are_set_changed_and_audited(services, db):
    services.set_baseline({"indicator_code": "OC1", "value": "3", "date": date(2025, 4, 30),
                           "source": "ODPP annual report 2024/25", "comment": "Before the MoU"})
    again = services.set_baseline({"indicator_code": "OC1", "value": "3", "date": date(2025, 4, 30),
                                   "source": "ODPP annual report 2024/25", "comment": "Before the MoU"})
    assert again.action == "unchanged"
    services.set_baseline({"indicator_code": "OC1", "value": "4", "date": date(2025, 4, 30),
                           "source": "ODPP annual report 2024/25 (revised)"}, FIX)
    with pytest.raises(ValidationError) as bad:
        services.set_baseline({"indicator_code": "ZZ", "value": "x", "date": None})
    assert {p.field for p in bad.value.problems} == {"Value", "Date"}
    with pytest.raises(ValidationError, match="no indicator 'ZZ'"):
        services.set_baseline({"indicator_code": "ZZ", "value": "1", "date": date(2025, 1, 1)})
    with db.reading() as s:
        b = s.execute(select(Baseline)).scalar_one()
        assert (b.value, b.comment) == (Decimal(4), None)
    assert [e for e in events(db, "baseline")] == [("create", "OC1", None), ("update", "OC1", "data correction")]
    services.delete_baseline("OC1", FIX)
    assert verify_chain(db).ok
