"""A large generated portfolio for benchmarks: 10 partnerships x 5 years with, at scale 1.0,
20,000 trainings, 500,000 attendances, 50,000 engagements, 5,000 milestones and 100,000 expenditures.

Loaded through the service layer's bulk path (`Services.bulk_insert`): rows are inserted in executemany
batches with one audit event each, so the portfolio has a full, verifiable audit trail.

    build_portfolio("sqlite:////tmp/big.db")            # everything
    build_portfolio(url, partnerships=2, scale=0.1)     # a small one for a quick look
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mou_tracker.db.engine import Database
from mou_tracker.db.migrate import upgrade_to_head
from mou_tracker.db.models import (
    Attendance,
    BudgetLine,
    Engagement,
    Expenditure,
    Grant,
    Indicator,
    Milestone,
    Participant,
    Result,
    Target,
    Training,
)
from mou_tracker.domain import codes
from mou_tracker.domain.identity import case_key, participant_key, participant_ref
from mou_tracker.domain.money import convert
from mou_tracker.domain.periods import Quarter, quarter_range
from mou_tracker.services import Services

BATCH = 20_000
FIRST_YEAR = 2021
CENT = Decimal("0.01")

PER_PARTNERSHIP = {"trainings": 2000, "attendances_per_training": 25, "people": 15000, "engagements": 5000,
                   "milestones": 500, "expenditures": 10000}
COUNTRIES = ("Kenya", "Uganda", "South Africa", "Kenya", "Tanzania", "Kenya", "Uganda", "Ghana", "Kenya", "Nigeria")


def partnership_code(i: int) -> str:
    return "ODPP-HTI-2025" if i == 0 else f"PORT-{i:02d}"


def _chunks(rows: list[dict[str, Any]], size: int = BATCH) -> Any:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _bulk(svc: Services, kind: str, model: Any, rows: list[dict[str, Any]], ref: str | None = "code",
          ref_of: Callable[[int, dict[str, Any]], str] | None = None) -> list[int]:
    ids: list[int] = []
    for chunk in _chunks(rows):
        ids.extend(svc.bulk_insert(kind, model, chunk, ref_attr=ref, ref_of=ref_of))
    return ids


def build_portfolio(url: str, *, partnerships: int = 10, years: int = 5, scale: float = 1.0,
                    progress: Callable[[str], None] | None = None) -> dict[str, int]:
    say = progress or (lambda msg: None)
    db = Database(url)
    upgrade_to_head(db)
    counts = {"trainings": 0, "attendances": 0, "participants": 0, "engagements": 0, "milestones": 0,
              "expenditures": 0}
    start = date(FIRST_YEAR, 1, 1)
    end = date(FIRST_YEAR + years - 1, 12, 31)
    span = (end - start).days
    quarters = quarter_range(Quarter.of(start), Quarter.of(end))
    n = {k: max(1, int(v * scale)) if k != "attendances_per_training" else v for k, v in PER_PARTNERSHIP.items()}
    for i in range(partnerships):
        t0 = time.perf_counter()
        rng = random.Random(1000 + i)
        code = partnership_code(i)
        svc = Services(db, "generator", partnership=code)
        svc.create_partnership({"code": code, "name": f"Partnership {i + 1}", "country": COUNTRIES[i % 10],
                                "start_date": start, "end_date": end})
        if i == 0:
            svc.seed_standard()
        pid = svc.partnership_id
        with db.reading() as s:
            indicators = {ind.code: ind.id for ind in s.query(Indicator).filter(Indicator.partnership_id == pid)}

        # targets and manual results
        target_rows = []
        for q in quarters:
            for ic, v in (("OC1", 6), ("OC2", 3), ("1.1", 100), ("1.2", 600), ("1.3", 300), ("1.4", 15),
                          ("2.1", 250), ("2.2", 60), ("2.3", 1200), ("3.1", 20), ("3.2", 80), ("4.1", 250000)):
                target_rows.append({"indicator_id": indicators[ic], "period": str(q), "value": Decimal(v)})
        _bulk(svc, "target", Target, target_rows, ref=None)
        _bulk(svc, "result", Result, [{"indicator_id": indicators[ic], "period": str(q),
                                       "value": Decimal(rng.randrange(1, 12)), "source": "generated"}
                                      for q in quarters for ic in ("OC1", "OC2")], ref=None)

        # trainings
        trainings = []
        for k in range(n["trainings"]):
            s_day = start + timedelta(days=rng.randrange(span - 5))
            topic = rng.choice(("Evidence", "Victim care", "Financial investigation", "Trial advocacy"))
            trainings.append({"partnership_id": pid, "code": f"T{k:06d}", "title": f"{topic} {k}", "topic": topic,
                              "start_date": s_day, "end_date": s_day + timedelta(days=rng.randrange(0, 5)),
                              "county": rng.choice(codes.KENYA_COUNTIES), "venue": None,
                              "delivery": rng.choice(codes.DELIVERIES), "lead": rng.choice(codes.LEADS),
                              "cost": Decimal(rng.randrange(1000, 20000)).quantize(CENT), "currency": "USD"})
        training_ids = _bulk(svc, "training", Training, trainings)
        say(f"{code}: {len(trainings)} trainings")

        # people and attendances (many repeat attendees)
        people = []
        for k in range(n["people"]):
            agency = rng.choice(codes.AGENCIES)
            staff = f"S{i:02d}{k:06d}" if agency == "ODPP" and rng.random() < 0.7 else None
            name = f"Person {i}-{k}"
            people.append({"partnership_id": pid, "key": participant_key(name, agency, staff), "name": name,
                           "sex": rng.choice(codes.SEXES), "agency": agency, "role": None, "staff_number": staff})
        people_ids = _bulk(svc, "participant", Participant, people, ref=None,
                           ref_of=lambda oid, _row: participant_ref(oid))
        attendance = []
        per = n["attendances_per_training"]
        for tid in training_ids:
            for person in rng.sample(people_ids, per):
                pre = rng.randrange(20, 80)
                attendance.append({"training_id": tid, "participant_id": person,
                                   "pre_score": Decimal(pre).quantize(CENT),
                                   "post_score": Decimal(min(100, pre + rng.randrange(0, 30))).quantize(CENT)})
            if len(attendance) >= BATCH:
                svc.bulk_insert("attendance", Attendance, attendance, ref_attr=None)
                counts["attendances"] += len(attendance)
                attendance = []
        if attendance:
            svc.bulk_insert("attendance", Attendance, attendance, ref_attr=None)
            counts["attendances"] += len(attendance)
        say(f"{code}: attendances done")

        # engagements
        cases = [f"CASE/{i}/{k:05d}" for k in range(max(1, n["engagements"] // 4))]
        engagements = []
        for k in range(n["engagements"]):
            etype = rng.choice(codes.ENGAGEMENT_TYPES)
            ref = rng.choice(cases) if etype == codes.CASE_MENTORING or rng.random() < 0.3 else None
            engagements.append({"partnership_id": pid, "code": f"E{k:06d}",
                                "date": start + timedelta(days=rng.randrange(span)), "type": etype,
                                "county": rng.choice(codes.KENYA_COUNTIES), "case_ref": ref, "case_key": case_key(ref),
                                "hours": Decimal(rng.randrange(1, 40)) / 2, "hti_advisor": None,
                                "odpp_counterpart": None, "summary": None})
        _bulk(svc, "engagement", Engagement, engagements)

        # milestones
        milestones = []
        for k in range(n["milestones"]):
            due = start + timedelta(days=rng.randrange(span))
            replanned = due + timedelta(days=rng.choice((0, 0, 30, 60)))
            done = rng.random() < 0.6 and replanned < end
            milestones.append({"partnership_id": pid, "code": f"M{k:05d}", "title": f"Milestone {k}",
                               "workstream": rng.choice(codes.WORKSTREAMS), "owner": rng.choice(codes.OWNERS),
                               "original_due_date": due, "due_date": replanned,
                               "status": codes.COMPLETED if done else rng.choice(("Not started", "In progress")),
                               "completed_on": replanned + timedelta(days=rng.randrange(-20, 20)) if done else None,
                               "evidence": None, "evidence_sha256": None})
        _bulk(svc, "milestone", Milestone, milestones)

        # grant, budget, expenditures
        svc.create_grant({"code": f"G-{i:02d}", "funder": "Generated funder", "currency": "USD",
                          "amount": "6000000", "start_date": start, "end_date": end})
        with db.reading() as s:
            grant_id = s.query(Grant.id).filter(Grant.partnership_id == pid).scalar()
        lines = _bulk(svc, "budget_line", BudgetLine, [
            {"grant_id": grant_id, "code": f"BL{k}", "name": name, "category": cat, "amount": Decimal(1000000)}
            for k, (name, cat) in enumerate((("Trainings", "Training"), ("Technical support", "Technical support"),
                                             ("Advisory", "Strategic advice"), ("Personnel", "Personnel"),
                                             ("Travel", "Travel"), ("M&E", "Monitoring and evaluation")))])
        expenditures = []
        for k in range(n["expenditures"]):
            kes = rng.random() < 0.4
            amount = Decimal(rng.randrange(100, 100000)) if kes else Decimal(rng.randrange(10, 3000))
            rate = Decimal("0.007750") if kes else None
            expenditures.append({"grant_id": grant_id, "code": f"X{k:06d}",
                                 "date": start + timedelta(days=rng.randrange(span)),
                                 "budget_line_id": rng.choice(lines), "description": "generated",
                                 "amount": amount.quantize(CENT), "currency": "KES" if kes else "USD", "rate": rate,
                                 "amount_grant": convert(amount, rate), "reference": None, "training_id": None,
                                 "engagement_id": None})
        _bulk(svc, "expenditure", Expenditure, expenditures)
        counts["trainings"] += len(trainings)
        counts["participants"] += len(people)
        counts["engagements"] += len(engagements)
        counts["milestones"] += len(milestones)
        counts["expenditures"] += len(expenditures)
        say(f"{code}: done in {time.perf_counter() - t0:.1f} s")
    db.dispose()
    return counts
