"""Migration 0004: a database at 0003 with rates stored (6 decimal places) keeps every value once upgraded, and
then keeps new rates to 10 places. On SQLite (rates are scaled integers there) and PostgreSQL (NUMERIC)."""

from datetime import date
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import select, text

from mou_tracker.db.engine import Database
from mou_tracker.db.migrate import alembic_config, current_revision, downgrade_to, head_revision, upgrade_to_head
from mou_tracker.db.models import Disbursement, Expenditure
from mou_tracker.services import Services

RATES = [Decimal("0.007741"), Decimal("123.456789"), Decimal("0.000001"), Decimal("999999.999999"), None]


@pytest.fixture
def db_at_0003(backend, request, tmp_path):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        name = f"rates_{abs(hash(request.node.nodeid)) % 10**8}"
        server.admin(f"CREATE DATABASE {name}")
        url = server.url(name)
    db = Database(url)
    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0003")
    yield db
    db.dispose()


def _stored(db, value):
    """A rate as revision 0003 stored it: micro-units on SQLite, NUMERIC(18, 6) on PostgreSQL."""
    if value is None:
        return None
    return int(value * 10**6) if db.dialect == "sqlite" else value


def _money(db, value):
    return int(Decimal(value) * 100) if db.dialect == "sqlite" else Decimal(value)


def test_rates_stored_at_0003_keep_every_value_after_the_upgrade(db_at_0003):
    db = db_at_0003
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO partnership (id, code, name, country, start_date) VALUES "
                          "(101, 'P', 'P', 'Kenya', :d)"), {"d": date(2025, 5, 12)})
        conn.execute(text("INSERT INTO grant_award (id, partnership_id, code, funder, currency, amount, start_date, "
                          "end_date) VALUES (101, 101, 'G1', 'HTI', 'USD', :a, :s, :e)"),
                     {"a": _money(db, "1000000"), "s": date(2025, 5, 12), "e": date(2028, 5, 11)})
        conn.execute(text("INSERT INTO budget_line (id, grant_id, code, name, amount) "
                          "VALUES (101, 101, 'BL1', 'T', :a)"),
                     {"a": _money(db, "1000")})
        for i, rate in enumerate(RATES, 1):
            conn.execute(text("INSERT INTO expenditure (id, grant_id, code, date, budget_line_id, description, "
                              "amount, currency, rate, amount_grant) VALUES (:i, 101, :c, :d, 101, 'x', :a, "
                              "'KES', :r, :g)"), {"i": 100 + i, "c": f"X{i}", "d": date(2025, 8, 1),
                                                 "a": _money(db, "100"), "r": _stored(db, rate),
                                                 "g": _money(db, "1")})
            conn.execute(text("INSERT INTO disbursement (id, grant_id, date, amount, currency, rate, amount_grant) "
                              "VALUES (:i, 101, :d, :a, 'KES', :r, :g)"),
                         {"i": 100 + i, "d": date(2025, 8, 1), "a": _money(db, "100"), "r": _stored(db, rate),
                          "g": _money(db, "1")})
    upgrade_to_head(db)
    assert current_revision(db) == head_revision()
    with db.reading() as s:
        assert list(s.execute(select(Expenditure.rate).order_by(Expenditure.id)).scalars()) == RATES
        assert list(s.execute(select(Disbursement.rate).order_by(Disbursement.id)).scalars()) == RATES
        assert s.execute(select(Expenditure.amount).where(Expenditure.id == 101)).scalar_one() == Decimal("100.00")

    # ... and from now on a rate keeps 10 places
    services = Services(db, "tester", partnership="P")
    services.create_grant({"code": "G2", "funder": "HTI", "currency": "USD", "amount": "10",
                           "start_date": date(2025, 5, 12), "end_date": date(2028, 5, 11)},)
    services.create_budget_line({"code": "BL1", "name": "T", "amount": "10"}, grant_code="G2")
    services.create_expenditure({"code": "NEW", "date": date(2025, 8, 1), "line_code": "BL1", "description": "x",
                                 "amount": "1000000", "currency": "KES", "rate": "0.0077405"}, grant_code="G2")
    with db.reading() as s:
        assert s.execute(select(Expenditure.rate, Expenditure.amount_grant).where(Expenditure.code == "NEW")
                         ).one() == (Decimal("0.0077405"), Decimal("7740.50"))

    # downgrading goes back to 6 places, half-up (the old column cannot hold more)
    downgrade_to(db, "0003")
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT rate FROM expenditure WHERE code = 'NEW'")).scalar_one()
    assert Decimal(stored) == (7741 if db.dialect == "sqlite" else Decimal("0.007741"))


def test_a_trail_written_before_0004_replays_rates_at_the_new_scale():
    """Events written before 0004 hold rates as 6-place text ("0.007705"); the table now holds 0.0077050000.
    Replaying (what `audit verify` and as-of views do) must see the same number, or every upgraded database
    with a foreign-currency transaction would fail verification. (Checked end to end on a demo database
    built with the previous release and upgraded: `audit verify` OK.)"""
    import orjson

    from mou_tracker.services.history import StateFold

    fold = StateFold(kinds=["expenditure", "training"])
    old = {c: [None, None] for c in fold.columns["expenditure"]}
    old["rate"] = [None, "0.007705"]
    old["amount"] = [None, "1000000.00"]
    fold.apply(7, "expenditure", 1, "create", orjson.dumps(old, option=orjson.OPT_SORT_KEYS).decode())
    values = dict(zip(fold.columns["expenditure"], fold.values("expenditure", 1), strict=True))
    assert values["rate"] == "0.0077050000" and values["amount"] == "1000000.00"
    fold.apply(8, "expenditure", 1, "update", orjson.dumps({"rate": ["0.007705", "0.007741"]}).decode())
    values = dict(zip(fold.columns["expenditure"], fold.values("expenditure", 1), strict=True))
    assert values["rate"] == "0.0077410000"
    assert not fold.anomalies
