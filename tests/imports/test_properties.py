"""Property-based: generated valid workbooks import and their indicator figures match a plain-Python
recomputation; generated invalid ones (one fault injected into a valid one) change nothing at all."""

import itertools
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mou_tracker.domain import codes
from mou_tracker.domain.periods import Quarter
from mou_tracker.imports import import_workbook
from mou_tracker.services.indicators import IndicatorEngine
from tests.imports.helpers import audit_count, chain_intact, snapshot, write_book

PEOPLE = [("Amina Ali", "ODPP", "ODPP 11"), ("John Otieno", "DCI", None), ("Mary Wanjiru", "Judiciary", None),
          ("Hassan Abdi", "ODPP", None), ("Grace Chebet", "ODPP", "odpp12"), ("Peter Kamau", "NGO", None)]
CASES = ["CTIP/MSA/1", "CTIP/NRB/2", "ctip/msa/1 ", "CTIP/KSM/3"]
DAY0 = date(2025, 5, 12)
_names = itertools.count()

days = st.integers(min_value=0, max_value=500)


@st.composite
def registers(draw):
    """A valid workbook as {sheet: [row dicts]}."""
    trainings = []
    for n in range(draw(st.integers(1, 5))):
        start = DAY0 + timedelta(days=draw(days))
        trainings.append({"Training ID": f"T{n}", "Title": f"Training {n}", "Topic": "Evidence", "Start date": start,
                          "End date": start + timedelta(days=draw(st.integers(0, 4))),
                          "County": draw(st.sampled_from(codes.KENYA_COUNTIES))})
    participants, seen = [], set()
    for _ in range(draw(st.integers(0, 12))):
        t = draw(st.sampled_from(trainings))["Training ID"]
        name, agency, staff = draw(st.sampled_from(PEOPLE))
        if (t, name) in seen:
            continue
        seen.add((t, name))
        spelled = draw(st.sampled_from([name, name.upper(), "  " + name.lower().replace(" ", "   ")]))
        row = {"Training ID": t, "Name": spelled, "Sex": "F", "Agency": agency, "Staff number": staff}
        if draw(st.booleans()):
            pre = draw(st.integers(0, 90))
            row.update({"Pre-test score": pre, "Post-test score": draw(st.integers(pre, 100))})
        participants.append(row)
    engagements = []
    for n in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(codes.ENGAGEMENT_TYPES))
        case = draw(st.sampled_from(CASES)) if kind == codes.CASE_MENTORING or draw(st.booleans()) else None
        engagements.append({"Engagement ID": f"E{n}", "Date": DAY0 + timedelta(days=draw(days)), "Type": kind,
                            "County": "Kwale", "Case reference": case,
                            "Hours": Decimal(draw(st.integers(1, 40))) / 2})
    milestones = []
    for n in range(draw(st.integers(0, 4))):
        due = DAY0 + timedelta(days=draw(days))
        status = draw(st.sampled_from(codes.MILESTONE_STATUSES))
        done = due + timedelta(days=draw(st.integers(-30, 30))) if status == codes.COMPLETED else None
        milestones.append({"Milestone ID": f"M{n}", "Title": f"Milestone {n}", "Due date": due, "Status": status,
                           "Completed on": done})
    results = [{"Indicator code": code, "Period": str(q), "Value": draw(st.integers(0, 20))}
               for code in ("OC1", "OC2") for q in draw(st.sets(st.sampled_from(QUARTERS), max_size=3))]
    return {"Trainings": trainings, "Participants": participants, "Engagements": engagements,
            "Milestones": milestones, "Results": results}


QUARTERS = [Quarter(2025, 2), Quarter(2025, 3), Quarter(2025, 4), Quarter(2026, 1), Quarter(2026, 2),
            Quarter(2026, 3), Quarter(2026, 4)]


def expected(book):
    """Every indicator's period actual per quarter, from the rows themselves (docs/reference/indicators.md)."""
    q = Quarter.of
    out = defaultdict(lambda: defaultdict(Decimal))
    ends = {t["Training ID"]: t["End date"] for t in book["Trainings"]}
    for t in book["Trainings"]:
        out["1.1"][q(t["End date"])] += 1
    first, agency, gains = {}, {}, defaultdict(list)
    for p in book["Participants"]:
        who = p["Staff number"].replace(" ", "").upper() if p["Staff number"] else (
            " ".join(p["Name"].split()).casefold(), p["Agency"])
        end = ends[p["Training ID"]]
        first[who] = min(first.get(who, end), end)
        agency[who] = p["Agency"]
        if "Pre-test score" in p:
            gains[q(end)].append(p["Post-test score"] - p["Pre-test score"])
    for who, end in first.items():
        out["1.2"][q(end)] += 1
        if agency[who] == "ODPP":
            out["1.3"][q(end)] += 1
    mentored = {}
    for e in book["Engagements"]:
        out["2.1"][q(e["Date"])] += 1
        out["2.3"][q(e["Date"])] += e["Hours"]
        if e["Type"] == codes.CASE_MENTORING:
            key = e["Case reference"].strip().casefold()
            mentored[key] = min(mentored.get(key, e["Date"]), e["Date"])
    for day in mentored.values():
        out["2.2"][q(day)] += 1
    on_time = defaultdict(list)
    for m in book["Milestones"]:
        if m["Status"] == codes.COMPLETED:
            out["3.1"][q(m["Completed on"])] += 1
            on_time[q(m["Completed on"])].append(m["Completed on"] <= m["Due date"])
    for r in book["Results"]:
        out[r["Indicator code"]][Quarter.parse(r["Period"])] += r["Value"]

    def mean(values, factor=1):
        if not values:
            return None
        return (Decimal(sum(values)) * factor / len(values)).quantize(Decimal("0.1"), ROUND_HALF_UP)

    for quarter in QUARTERS + [Quarter(2026, 4)]:
        out["1.4"][quarter] = mean(gains.get(quarter, []))
        out["3.2"][quarter] = mean(on_time.get(quarter, []), 100)
    return out


SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@given(book=registers())
def test_valid_workbooks_import_and_the_figures_match_a_recomputation(fresh_services, tmp_path, book):
    services = fresh_services(f"ok{next(_names)}")
    path = write_book(tmp_path / f"ok{next(_names)}.xlsx", book)
    outcome = import_workbook(services, path)
    assert outcome.ok, outcome.problem_lines()
    want = expected(book)
    with services.db.reading() as s:
        engine = IndicatorEngine(s, services.partnership_id)
        for quarter in QUARTERS:
            got = engine.progress(quarter).by_code()
            for code in ("OC1", "OC2", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "3.1", "3.2"):
                value = want[code][quarter] if code in ("1.4", "3.2") else want[code].get(quarter, Decimal(0))
                assert got[code].period_actual == value, (code, str(quarter))
    again = import_workbook(services, path)
    assert again.ok and all(s.new == s.changed == 0 for s in again.sheets)
    assert chain_intact(services.db)  # the batch path's audit trail replays to exactly these tables


def _fault(book, draw):
    """Break a valid workbook in one way; returns the sheet the problem must be reported on."""
    kind = draw(st.sampled_from(["county", "title", "date", "duplicate", "reference", "score", "indicator",
                                 "status"]))
    t = book["Trainings"][0]
    if kind == "county":
        t["County"] = "Atlantis"
    elif kind == "title":
        t["Title"] = "   "
    elif kind == "date":
        t["End date"] = t["End date"].strftime("%d/%m/%Y")
    elif kind == "duplicate":
        book["Trainings"].append(dict(t))
    elif kind == "reference":
        book["Participants"].append({"Training ID": "NOPE", "Name": "X", "Sex": "M", "Agency": "DCI"})
        return "Participants"
    elif kind == "score":
        book["Participants"].append({"Training ID": t["Training ID"], "Name": "Y", "Sex": "M", "Agency": "DCI",
                                     "Pre-test score": 50, "Post-test score": 101})
        return "Participants"
    elif kind == "indicator":
        book["Results"].append({"Indicator code": "1.1", "Period": "2025-Q3", "Value": 3})
        return "Results"
    else:
        book["Milestones"].append({"Milestone ID": "MX", "Title": "x", "Due date": DAY0, "Status": "Completed"})
        return "Milestones"
    return "Trainings"


@SETTINGS
@given(book=registers(), data=st.data())
def test_invalid_workbooks_change_nothing(fresh_services, tmp_path, book, data):
    services = fresh_services(f"bad{next(_names)}")
    seed = data.draw(registers())  # something already in the database
    assert import_workbook(services, write_book(tmp_path / f"seed{next(_names)}.xlsx", seed)).ok
    sheet = _fault(book, data.draw)
    before, events = snapshot(services.db), audit_count(services.db)
    outcome = import_workbook(services, write_book(tmp_path / f"bad{next(_names)}.xlsx", book))
    assert not outcome.ok and not outcome.written
    assert any(p.sheet == sheet for p in outcome.problems), outcome.problem_lines()
    assert snapshot(services.db) == before and audit_count(services.db) == events
