"""The standard results framework that `init` seeds (docs/reference/indicators.md), with a reference sheet per indicator
in the spirit of a USAID PIRS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    unit: str
    kind: str
    rule: str
    decimals: int
    definition: str
    data_source: str
    how_computed: str
    disaggregations: str = ""


STANDARD_INDICATORS: tuple[IndicatorDef, ...] = (
    IndicatorDef("OC1", "Trafficking prosecutions initiated by ODPP", "cases", "sum", "manual", 0,
                 "New prosecutions under the Counter-Trafficking in Persons Act No. 8 of 2010 that ODPP "
                 "initiated in the quarter.",
                 "ODPP case management records, reported quarterly (Results sheet or UI)",
                 "Manual value per quarter; the cumulative value is the sum of the quarters to date."),
    IndicatorDef("OC2", "Trafficking convictions secured", "cases", "sum", "manual", 0,
                 "Convictions secured in trafficking cases in the quarter.",
                 "ODPP case management records, reported quarterly (Results sheet or UI)",
                 "Manual value per quarter; the cumulative value is the sum of the quarters to date."),
    IndicatorDef("1.1", "Training sessions held", "sessions", "sum", "trainings_held", 0,
                 "Specialised capacity-building sessions delivered under the MoU.",
                 "Training register",
                 "Count of trainings whose end date falls in the quarter (a training spanning two quarters "
                 "counts in the quarter it ends).",
                 "county, delivery mode, lead"),
    IndicatorDef("1.2", "Criminal-justice practitioners newly trained", "people", "sum", "people_trained", 0,
                 "Distinct practitioners trained for the first time under the MoU.",
                 "Training register and attendance lists",
                 "Distinct participants whose first attended training ends in the quarter. A person is "
                 "identified by staff number when given (upper-cased, spaces removed), otherwise by name "
                 "(case-folded, spaces collapsed) together with agency; repeat attendees count once, in "
                 "the quarter of their first training.",
                 "sex, agency"),
    IndicatorDef("1.3", "ODPP prosecutors newly trained", "people", "sum", "odpp_trained", 0,
                 "Distinct ODPP staff trained for the first time under the MoU.",
                 "Training register and attendance lists",
                 "As 1.2, counting only participants whose agency is ODPP.",
                 "sex"),
    IndicatorDef("1.4", "Average knowledge gain", "percentage points", "level", "knowledge_gain", 1,
                 "Mean improvement between pre-test and post-test scores (0-100).",
                 "Pre- and post-test score sheets",
                 "Mean of (post-test - pre-test) over attendances with both scores, for trainings ending in "
                 "the quarter; cumulatively, over all such attendances to date.",
                 "training, agency"),
    IndicatorDef("2.1", "Technical-support engagements delivered", "engagements", "sum", "engagements", 0,
                 "Technical-support engagements (case mentoring, reviews, trial support, SOPs, coordination).",
                 "Technical-support log",
                 "Count of engagements dated in the quarter.",
                 "type, county"),
    IndicatorDef("2.2", "Trafficking cases mentored", "cases", "sum", "cases_mentored", 0,
                 "Distinct trafficking cases that received case mentoring.",
                 "Technical-support log (anonymised case references only)",
                 "Distinct case references (compared case-insensitively, trimmed) whose first 'Case "
                 "mentoring' engagement is dated in the quarter.",
                 "county"),
    IndicatorDef("2.3", "Hours of technical support", "hours", "sum", "support_hours", 2,
                 "Hours of technical support delivered.",
                 "Technical-support log",
                 "Sum of engagement hours dated in the quarter.",
                 "type"),
    IndicatorDef("3.1", "Advisory milestones completed", "milestones", "sum", "milestones_completed", 0,
                 "Strategic-advice milestones completed.",
                 "Milestone register",
                 "Milestones with status Completed and a completion date in the quarter.",
                 "workstream, owner"),
    IndicatorDef("3.2", "Milestones completed on time", "%", "level", "milestones_on_time", 1,
                 "Share of completed milestones finished by their original due date.",
                 "Milestone register and its audit trail",
                 "Of the milestones counted by 3.1, the share completed on or before their original due date "
                 "(the first due date ever recorded, whatever it was re-planned to later); cumulatively, "
                 "over all milestones completed to date.",
                 "workstream"),
    IndicatorDef("4.1", "Grant expenditure", "grant currency", "sum", "expenditure", 2,
                 "Spending charged to the grant.",
                 "Expenditure ledger",
                 "Sum of expenditures dated in the quarter, each converted to the grant currency "
                 "(amount x rate, rounded half-up to cents).",
                 "budget line"),
)

STANDARD_PARTNERSHIP = {
    "code": "ODPP-HTI-2025",
    "name": "ODPP-HTI partnership against human trafficking",
    "country": "Kenya",
    "start_date": date(2025, 5, 12),
    "end_date": date(2028, 5, 11),
}

STANDARD_PARTIES = (
    {"code": "hti", "name": "Human Trafficking Institute", "fiscal_start_month": 10,
     "fiscal_label_style": "end_year", "currency": "USD"},
    {"code": "odpp", "name": "Office of the Director of Public Prosecutions, Kenya", "fiscal_start_month": 7,
     "fiscal_label_style": "split", "currency": "KES"},
)
