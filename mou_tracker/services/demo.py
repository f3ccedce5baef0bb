"""A realistic, deterministic demo programme: the ODPP-HTI partnership from May 2025 up to today, the current
quarter partly done. Everything goes through the service layer, in date order, with the audit clock set to
each record's date and the actor set to the person of either party who would have entered it, so the audit
trail (and every as-of view) reads like a real programme's history."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from mou_tracker.domain.periods import Quarter, quarter_range
from mou_tracker.errors import MouError, ValidationError
from mou_tracker.services import demo_people
from mou_tracker.services.audit import Reason
from mou_tracker.services.programme import Services

SEED = 20250512
START = date(2025, 5, 12)
DEMO_STEPS = 1200  # roughly the number of records; sizes the progress bar

COUNTIES = ("Nairobi", "Mombasa", "Kisumu", "Nakuru", "Kilifi", "Kwale", "Busia", "Garissa", "Machakos",
            "Uasin Gishu", "Kajiado", "Turkana", "Kakamega", "Migori", "Kiambu")
TOPICS = ("Victim-centred prosecution", "Evidence in trafficking cases", "Financial investigations",
          "Counter-Trafficking in Persons Act", "Plea bargaining and sentencing", "Cross-border cooperation",
          "Digital evidence", "Trial advocacy")
FIRST = ("Achieng", "Wanjiru", "Otieno", "Kamau", "Mwangi", "Njeri", "Omondi", "Wambui", "Kiprop", "Chebet",
         "Mutua", "Nduta", "Barasa", "Atieno", "Kiptoo", "Wafula", "Nyambura", "Ochieng", "Jeptoo", "Mohamed",
         "Amina", "Hassan", "Zawadi", "Kerubo", "Makena", "Kibet", "Moraa", "Juma", "Halima", "Nekesa")
LAST = ("Odhiambo", "Kariuki", "Mutiso", "Wekesa", "Kiplagat", "Onyango", "Githinji", "Abdi", "Njoroge",
        "Owino", "Cheruiyot", "Muriuki", "Ali", "Koech", "Ndungu", "Okoth", "Wairimu", "Langat", "Mburu", "Were")
AGENCY_WEIGHTS = (("ODPP", 45), ("DCI", 20), ("Judiciary", 8), ("Immigration", 8), ("Labour", 5),
                  ("Children Services", 6), ("NGO", 5), ("Other", 3))
ENGAGEMENT_TYPES = (("Case mentoring", 45), ("Case review", 15), ("Trial support", 15), ("SOP development", 8),
                    ("Coordination", 12), ("Other", 5))
MILESTONES = (
    ("M01", "Baseline assessment of trafficking prosecutions", "Strategic advice", "Joint"),
    ("M02", "Specialised CTIP prosecution unit terms of reference", "Strategic advice", "ODPP"),
    ("M03", "National CTIP prosecution guidelines drafted", "Strategic advice", "HTI"),
    ("M04", "Case mentoring programme launched in five counties", "Technical support", "Joint"),
    ("M05", "Training curriculum for prosecutors approved", "Capacity building", "HTI"),
    ("M06", "Victim-witness coordination SOP", "Technical support", "ODPP"),
    ("M07", "Case tracking dashboard for CTIP cases", "Strategic advice", "HTI"),
    ("M08", "Regional trainers certified", "Capacity building", "Joint"),
    ("M09", "Prosecution guidelines validated with stakeholders", "Strategic advice", "ODPP"),
    ("M10", "Mid-term review of the MoU", "Strategic advice", "Joint"),
    ("M11", "Cross-border cooperation protocol with Uganda", "Strategic advice", "ODPP"),
    ("M12", "Sustainability and hand-over plan", "Strategic advice", "Joint"),
)
BUDGET = (("BL1", "Trainings and workshops", "Training", "420000"),
          ("BL2", "Technical support and case mentoring", "Technical support", "310000"),
          ("BL3", "Strategic advisory services", "Strategic advice", "180000"),
          ("BL4", "Programme personnel", "Personnel", "190000"),
          ("BL5", "Travel and logistics", "Travel", "60000"),
          ("BL6", "Monitoring and evaluation", "Monitoring and evaluation", "40000"))


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class _Clock:
    """The audit clock of the demo: the time of the record being entered."""

    def __init__(self) -> None:
        self.now = datetime.combine(START, time(9), tzinfo=UTC)

    def set(self, day: date) -> None:
        candidate = datetime.combine(day, time(17), tzinfo=UTC)
        self.now = max(candidate, self.now + timedelta(seconds=1))

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now


#: each indicator's baseline: the situation the MoU started from (ODPP's 2024 figures; zero for the outputs the
#: programme itself delivers); (code, value, source, comment)
BASELINES = (
    ("OC1", "4", "ODPP case management system, 2024", "Quarterly mean of the 17 prosecutions initiated in 2024"),
    ("OC2", "1", "ODPP case management system, 2024", "Quarterly mean of the 5 convictions of 2024"),
    ("1.1", "0", "Programme records", "No HTI-supported trainings before the MoU"),
    ("1.2", "0", "Programme records", "Counted from the MoU start"),
    ("1.3", "0", "Programme records", "Counted from the MoU start"),
    ("1.4", "0", "Programme records", "No pre/post tests before the MoU"),
    ("2.1", "0", "Programme records", "Counted from the MoU start"),
    ("2.2", "0", "Programme records", "Counted from the MoU start"),
    ("2.3", "0", "Programme records", "Counted from the MoU start"),
    ("3.1", "0", "MoU work plan", "Counted from the MoU start"),
    ("3.2", "0", "MoU work plan", "No milestones before the MoU"),
    ("4.1", "0", "Grant agreement HTI-KE-2025", "Spending from the award start"),
)
#: significant developments, as the programme officer logs them: (days after the MoU start, category, text, ref)
DEVELOPMENTS = (
    (45, "Opportunity", "The Chief Justice's practice directions on trafficking cases invite joint trainings of "
                        "prosecutors and magistrates", "DEV-001"),
    (120, "Delay", "Court vacation: the validation workshop of the prosecution guidelines moves to the next "
                   "quarter", "DEV-002"),
    (240, "Risk", "Staff turnover in the ODPP trafficking unit: four trained prosecutors transferred to other "
                  "stations", "DEV-003"),
    (330, "Change in context", "Parliament amends the Counter-Trafficking in Persons Act; the training curriculum "
                               "is updated", "DEV-004"),
    (420, "Opportunity", "The Judiciary asks to join the case-mentoring sessions in Mombasa", "DEV-005"),
    (500, "Risk", "Budget cuts in the national prosecution service may slow ODPP's co-funding of venues",
     "DEV-006"),
)
#: obligations not yet paid when they were made: (days after the MoU start, line, description, USD, paid after)
COMMITMENTS = (
    (60, "BL3", "Consultancy: prosecution guidelines drafting", "24000.00", 90),
    (200, "BL6", "Mid-term evaluation contract", "18500.00", 240),
    (380, "BL1", "Venue booking, regional trainings", "9800.00", 60),
    (470, "BL5", "Travel agency framework order", "6250.00", None),
    (530, "BL1", "Venue booking, Mombasa course", "4400.00", None),
)


def _funder_records(services: Services, at: Callable[..., None], hti: str, hti_lead: str, odpp: str) -> None:
    """What a funder asks for beyond the figures: baselines, the indirect-cost rate and its base, obligations
    (open until paid) and the significant developments of each quarter."""
    for code, value, source, comment in BASELINES:
        at(START, lambda c=code, v=value, src=source, k=comment: services.set_baseline(
            {"indicator_code": c, "value": v, "date": date(2024, 12, 31), "source": src, "comment": k}), hti_lead)
    at(START, lambda: services.set_indirect_rate("10"), hti_lead)  # a de minimis rate
    for line in ("BL1", "BL2", "BL5"):
        at(START, lambda c=line: services.set_indirect_base(c, True), hti_lead)
    for n, (days, line, text, usd, paid_after) in enumerate(COMMITMENTS, 1):
        values = {"code": f"CM-{n:03d}", "date": START + timedelta(days=days), "line_code": line,
                  "description": text, "amount": usd, "currency": "USD", "status": "Open"}
        at(START + timedelta(days=days), lambda v=values: services.create_commitment(v), hti)
        if paid_after is not None:
            # paid after its quarter was signed off: the change says why
            at(START + timedelta(days=days + paid_after), lambda v=dict(values, status="Liquidated"):
               services.update_commitment(v["code"], v, reason=Reason("other", f"Paid: invoice for {v['code']} "
                                                                               "settled")), hti)
    for days, category, text, ref in DEVELOPMENTS:
        day = START + timedelta(days=days)
        at(day, lambda d=day, c=category, t=text, r=ref: services.create_development(
            {"date": d, "category": c, "text": t, "reference": r}), odpp if category == "Risk" else hti)


def load_demo(services: Services, today: date | None = None,
              progress: Callable[[int], None] | None = None) -> str:
    """Fill an empty (just initialised) database with the demo programme. Returns a one-line summary."""
    from sqlalchemy import func, select

    from mou_tracker.db.models import AuditEvent

    with services.db.reading() as s:
        if s.execute(select(func.count()).select_from(AuditEvent)).scalar():
            raise MouError("the database already holds records; --demo needs a new, empty database")
    today = today or datetime.now(UTC).date()
    last_q = Quarter.latest_ended(today)
    end = today  # records run up to today: the current quarter is partly done
    rng = random.Random(SEED)
    tick = progress or (lambda n=1: None)
    clock = _Clock()
    services._clock = clock
    events: list[tuple[date, int, str | None, Callable[[], Any]]] = []
    order = iter(range(10**9))

    def at(day: date, fn: Callable[[], Any], actor: str | None = None) -> None:
        """Enter ``fn`` on ``day``, as ``actor`` (a demo person; None: whoever runs the demo)."""
        events.append((day, next(order), actor, fn))

    hti, hti_lead, odpp = demo_people.PROGRAMME_OFFICER, demo_people.COUNTRY_DIRECTOR, demo_people.PROSECUTION_COUNSEL

    # Grant, budget, targets: set up at the start ------------------------------------------------------------
    at(START, lambda: services.create_grant({"code": "HTI-KE-2025", "funder": "Human Trafficking Institute",
                                          "currency": "USD", "amount": "1200000", "start_date": START,
                                          "end_date": date(2028, 5, 11)}), hti_lead)
    for code, name, cat, amount in BUDGET:
        at(START, lambda c=code, n=name, k=cat, a=amount: services.create_budget_line(
            {"code": c, "name": n, "category": k, "amount": a}), hti_lead)
    quarters = quarter_range(Quarter(2025, 2), Quarter(2028, 2))
    for q in quarters:
        ramp = 0.5 if q == Quarter(2025, 2) else 1.0
        for code, target in (("OC1", 6), ("OC2", 3), ("1.1", 6), ("1.2", 80), ("1.3", 45), ("1.4", 15),
                             ("2.1", 10), ("2.2", 5), ("2.3", 70), ("3.1", 1), ("3.2", 80), ("4.1", 95000)):
            value = target if code in ("1.4", "3.2") else round(target * ramp)
            at(START, lambda c=code, p=str(q), v=value: services.set_target(c, p, v), hti_lead)

    # People ---------------------------------------------------------------------------------------------------
    people: list[dict[str, Any]] = []
    for i in range(560):
        agency = _weighted(rng, AGENCY_WEIGHTS)
        person = {"name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {chr(65 + i % 26)}.", "sex": rng.choice("FM"),
                  "agency": agency, "role": "Prosecutor" if agency == "ODPP" else rng.choice(
                      ("Investigator", "Magistrate", "Officer", "Social worker", "Advocate")),
                  "staff_number": f"ODPP/{1000 + i}" if agency == "ODPP" and rng.random() < 0.7 else None}
        people.append(person)

    # Trainings and attendance ------------------------------------------------------------------------------
    span = (end - START).days
    training_dates = sorted(START + timedelta(days=rng.randrange(8, span - 3)) for _ in range(40))
    training_dates[5] = date(2025, 9, 29)  # one spans the Q3/Q4 boundary
    training_dates.sort()
    attendances = 0
    for n, start in enumerate(training_dates, 1):
        length = 5 if n == 6 else rng.choice((1, 2, 3, 3, 4, 5))
        finish = start + timedelta(days=length - 1)
        if finish > end:
            finish = end
        code = f"TR-{start.year}-{n:03d}"
        county = COUNTIES[n % len(COUNTIES)] if n <= 15 else rng.choice(COUNTIES)
        topic = rng.choice(TOPICS)
        values = {"code": code, "title": f"{topic} ({county})", "topic": topic, "start_date": start,
                  "end_date": finish, "county": county if county != "Nairobi" or n % 2 else "Nairobi City",
                  "venue": f"{county} law courts training room", "delivery": rng.choice(("In person", "In person",
                                                                                            "Hybrid", "Virtual")),
                  "lead": rng.choice(("HTI", "ODPP", "Joint")), "cost": str(rng.randrange(4000, 16000)),
                  "currency": "USD"}
        entered_by = odpp if values["lead"] == "ODPP" else hti
        at(finish, lambda v=values: services.create_training(v), entered_by)
        size = rng.randrange(16, 30)
        pool = people[: 120 + n * 11]
        for person in rng.sample(pool, min(size, len(pool))):
            name = person["name"]
            if not person["staff_number"] and rng.random() < 0.15:
                name = "  " + name.upper().replace(" ", "  ") + " "  # the same person, typed differently
            pre = rng.randrange(30, 70)
            post = min(100, pre + rng.randrange(0, 30))
            has_scores = rng.random() < 0.9
            row = {"training_code": code, "name": name, "sex": person["sex"], "agency": person["agency"],
                   "role": person["role"], "staff_number": person["staff_number"],
                   "pre_score": pre if has_scores else None, "post_score": post if has_scores else None}
            at(finish, lambda r=row: services.add_attendance(r), entered_by)
            attendances += 1

    # Technical support -----------------------------------------------------------------------------------------
    cases = [f"CTIP/{rng.choice(('MSA', 'NRB', 'KSM', 'NKR', 'BSA'))}/{2025 + (i % 2)}/{100 + i:03d}"
             for i in range(30)]
    for n in range(1, 67):
        day = START + timedelta(days=rng.randrange(20, span))
        etype = _weighted(rng, ENGAGEMENT_TYPES)
        case = rng.choice(cases) if etype in ("Case mentoring", "Case review", "Trial support") else None
        if case and rng.random() < 0.2:
            case = f"  {case.lower()} "  # case references compare case-insensitively, trimmed
        values = {"code": f"TS-{n:03d}", "date": day, "type": etype, "county": rng.choice(COUNTIES),
                  "case_ref": case, "hours": str(rng.choice((2, 3, 4, 6, 8, 12, 16)) + rng.choice((0, 0.5))),
                  "hti_advisor": rng.choice(("HTI advisor A", "HTI advisor B", "HTI advisor C")),
                  "odpp_counterpart": rng.choice(("Senior prosecutor", "Prosecution counsel", "Head of CTIP unit")),
                  "summary": f"{etype} session"}
        at(day, lambda v=values: services.create_engagement(v), hti if n % 3 else odpp)

    # Milestones: planned at the start, some re-planned, some late, one cancelled ------------------------------
    for i, (code, title, stream, owner) in enumerate(MILESTONES):
        due = START + timedelta(days=60 + i * 75)
        base = {"code": code, "title": title, "workstream": stream, "owner": owner, "due_date": due,
                "status": "Not started", "completed_on": None, "evidence": None}
        owner_by = {"HTI": hti, "ODPP": odpp}.get(owner, hti_lead)
        at(START, lambda v=dict(base): services.create_milestone(v), hti_lead)
        if due > end + timedelta(days=120):
            continue
        if code == "M07":
            at(due - timedelta(days=20), lambda v=dict(base, status="Cancelled"): services.update_milestone(
                v["code"], v, reason=Reason("change in context", "Dashboard now provided by the national case system")),
               hti_lead)
            continue
        start_work = due - timedelta(days=40)
        at(start_work, lambda v=dict(base, status="In progress"): services.update_milestone(v["code"], v), owner_by)
        new_due = due
        if code in ("M03", "M06", "M09"):  # re-planned before completion
            new_due = due + timedelta(days=45)
            at(due - timedelta(days=10), lambda v=dict(base, status="In progress", due_date=new_due):
               services.update_milestone(v["code"], v, reason=Reason("re-planning agreed by both parties",
                                                        "Stakeholder validation moved after the court vacation")),
               hti_lead)
        lateness = {"M03": 30, "M06": 10, "M08": 21}.get(code, -rng.randrange(0, 12))
        done = new_due + timedelta(days=lateness) if code in ("M03", "M06") else due + timedelta(days=lateness)
        if done <= end:
            evidence = f"Report {code} filed in the MoU shared folder"
            at(done, lambda v=dict(base, due_date=new_due, status="Completed", completed_on=done, evidence=evidence):
               services.update_milestone(v["code"], v), owner_by)
        elif new_due + timedelta(days=3) <= end:
            at(new_due + timedelta(days=3), lambda v=dict(base, due_date=new_due, status="Delayed"):
               services.update_milestone(v["code"], v), owner_by)

    # Outcomes --------------------------------------------------------------------------------------------------
    for q in quarter_range(Quarter.of(START), last_q):
        prosecutions = rng.randrange(4, 10)
        at(q.end, lambda p=str(q), v=prosecutions: services.set_result("OC1", p, v, "ODPP case management system"),
           odpp)
        at(q.end, lambda p=str(q), v=rng.randrange(1, 5): services.set_result("OC2", p, v,
                                                                               "ODPP case management system"), odpp)

    # Money: tranches and monthly spending in USD and KES ------------------------------------------------------
    tranche_dates = [START + timedelta(days=10), date(2025, 11, 3), date(2026, 5, 4), date(2026, 11, 2)]
    for i, day in enumerate(d for d in tranche_dates if d <= end):
        at(day, lambda d=day, i=i: services.create_disbursement({"date": d, "amount": "300000", "currency": "USD",
                                                                "reference": f"TRANCHE-{i + 1}"}), hti_lead)
    month = date(START.year, START.month, 1)
    n = 0
    while month <= end:
        for line_code, _name, _cat, amount in BUDGET:
            monthly = Decimal(amount) / 36
            n += 1
            day = max(month + timedelta(days=rng.randrange(5, 27)), START)
            if day > end:
                continue  # not spent yet: this month is still under way
            if rng.random() < 0.4:
                kes = (monthly * Decimal(rng.uniform(0.6, 1.1)) * 129).quantize(Decimal(1))
                rate = Decimal("0.0077") + Decimal(rng.randrange(0, 40)) / Decimal(1000000)
                values = {"code": f"EX-{n:04d}", "date": day, "line_code": line_code,
                          "description": f"Local costs {month:%b %Y}", "amount": str(kes), "currency": "KES",
                          "rate": str(rate), "reference": f"PV-{n:04d}"}
            else:
                usd = (monthly * Decimal(rng.uniform(0.6, 1.2))).quantize(Decimal("0.01"))
                values = {"code": f"EX-{n:04d}", "date": day, "line_code": line_code,
                          "description": f"{_name} {month:%b %Y}", "amount": str(usd), "currency": "USD",
                          "reference": f"INV-{n:04d}"}
            at(day, lambda v=values: services.create_expenditure(v), hti)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)

    _funder_records(services, at, hti, hti_lead, odpp)
    demo_people.plan(services, at, quarter_range(Quarter.of(START), last_q), today)
    events.sort(key=lambda e: (e[0], e[1]))
    try:
        with services.transaction():
            clock.set(START - timedelta(days=1))
            services.seed_standard()
            demo_people.register(services)
            for day, _n, actor, fn in events:
                if day > today:
                    continue  # planned for later (a milestone's work not started yet): not recorded yet
                clock.set(day)
                with demo_people.acting_as(services, actor):
                    fn()
                tick(1)
    except ValidationError as exc:  # a bug in the generator, not user input
        raise RuntimeError(f"demo data was refused: {exc}") from exc
    finally:
        services._clock = None
    return (f"{len(training_dates)} trainings, {attendances} attendances, 66 engagements, {len(MILESTONES)} "
            f"milestones, up to {today} ({Quarter.of(today)} under way)")
