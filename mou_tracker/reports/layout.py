"""The shape of a progress report: its sheets, the Excel tables on each sheet and their columns.

The template builder (``make_templates``) writes templates from this, and the filler (``fill``) checks a
template against it. A template may restyle everything (titles, colours, fonts, widths, header text, number
formats of the styled row, print setup) but keeps each table's name and its number of columns: the report
writes its columns by position.
"""

from __future__ import annotations

from dataclasses import dataclass

# Column kinds: the default number format the template builder gives the styled row. "var" columns get a
# number format per cell from the report (e.g. each indicator's decimals); "status" columns are coloured by
# conditional formatting taken from the status legend cells ({{legend:on_track}}, ...).
TEXT, INT, DEC1, MONEY, RATE, DATE, DATETIME, PCT, VAR, STATUS = ("text", "int", "dec1", "money", "rate", "date",
                                                                 "datetime", "pct", "var", "status")
DEFAULT_FORMATS = {
    TEXT: "General",
    INT: "#,##0",
    DEC1: "#,##0.0",
    MONEY: "#,##0.00",
    RATE: "0.000000",
    DATE: "d mmm yyyy",
    DATETIME: "yyyy-mm-dd hh:mm:ss",
    PCT: "0.0%",
    VAR: "General",
    STATUS: "General",
}

#: number formats for figures by their number of decimal places
DECIMAL_FORMATS = {0: "#,##0", 1: "#,##0.0", 2: "#,##0.00", 3: "#,##0.000", 4: "#,##0.0000"}


@dataclass(frozen=True)
class Col:
    header: str
    kind: str = TEXT
    #: the template builder makes each sheet column as wide as its widest section asks for
    width: float = 12
    #: wrap the text of the styled row (columns 30 wide or more always do)
    wrap: bool = False


@dataclass(frozen=True)
class Section:
    """One Excel table of a sheet: the template holds its header row and one styled row below it."""

    table: str
    caption: str | None
    columns: tuple[Col, ...]
    #: for the tracking table: the slice of columns repeated once per quarter
    block: tuple[int, int] | None = None
    #: a table added after templates were first restyled: a template without it gets a note, not a refusal
    optional: bool = False


@dataclass(frozen=True)
class SheetLayout:
    name: str
    sections: tuple[Section, ...] = ()
    required: bool = False


(COVER, SUMMARY, INDICATORS, TRAININGS, SUPPORT, MILESTONES, HISTORY, FINANCE, DEVELOPMENTS, DEFINITIONS, SIGNOFF,
 PARTICIPANTS) = ("Cover", "Summary", "Indicators", "Trainings", "Technical support", "Milestones",
                  "Milestone history", "Finance", "Developments", "Definitions", "Sign-off", "Participants")

STATUS_LABELS = {
    "on_track": "On track",
    "below_target": "Below target",
    "above_target": "Above target",
    "no_target": "No target",
    "no_data": "No data",
}

SHEETS: tuple[SheetLayout, ...] = (
    SheetLayout(COVER, required=True),
    SheetLayout(SUMMARY, (
        Section("ChartTargets", "Chart data: achievement against target, per indicator", (
            Col("Code", width=10), Col("Indicator", width=34), Col("{{period}} (% of target)", PCT, 14),
            Col("Cumulative (% of target)", PCT, 14), Col("Target (100 %)", PCT, 12))),
        Section("ChartTrained", "Chart data: people newly trained per quarter (indicator 1.2)", (
            Col("Quarter"), Col("Fiscal quarter"), Col("Newly trained", INT), Col("Trained to date", INT),
            Col("Target to date", INT))),
        Section("ChartBurn", "Chart data: grant expenditure per quarter against plan (indicator 4.1)", (
            Col("Quarter"), Col("Fiscal quarter"), Col("Spent ({{currency}})", MONEY),
            Col("Spent to date ({{currency}})", MONEY), Col("Planned to date ({{currency}})", MONEY))),
    )),
    SheetLayout(INDICATORS, (
        Section("TrackingTable", None, (
            Col("Code", width=6), Col("Indicator", width=24, wrap=True), Col("Unit", width=11),
            Col("Baseline", VAR, 10), Col("Baseline date", DATE, 11), Col("Baseline source", width=30),
            Col("Target {{q}}", VAR, 8), Col("Actual {{q}}", VAR, 8), Col("% {{q}}", PCT, 7),
            Col("Cumulative target", VAR, 12), Col("Cumulative actual", VAR, 12), Col("Cumulative %", PCT, 11),
            Col("Life-of-MoU target", VAR, 12), Col("Status {{period}}", STATUS, 13),
            Col("Cumulative status", STATUS, 13),
            Col("Numerator {{period}}", VAR, 12), Col("Denominator {{period}}", INT, 12),
            Col("Numerator to date", VAR, 12), Col("Denominator to date", INT, 12),
            Col("Narrative {{period}}", width=50)),
            block=(6, 9)),
    ), required=True),
    SheetLayout(TRAININGS, (
        Section("Trainings", None, (
            Col("Training ID", width=13), Col("Title", width=36), Col("Topic", width=24),
            Col("Start date", DATE, 12), Col("End date", DATE, 12), Col("Quarter", width=9),
            Col("Fiscal quarter", width=13), Col("County", width=13), Col("Venue", width=24),
            Col("Delivery", width=10), Col("Lead", width=7), Col("Participants", INT, 11), Col("Women", INT, 8),
            Col("Men", INT, 8), Col("ODPP", INT, 7), Col("DCI", INT, 7), Col("Judiciary", INT, 9),
            Col("Immigration", INT, 10), Col("Labour", INT, 8), Col("Children Services", INT, 10),
            Col("NGO", INT, 7), Col("Other", INT, 7), Col("Pre- and post-test scored", INT, 11),
            Col("Cost", MONEY, 12), Col("Currency", width=9))),
        Section("NewlyTrained", "People newly trained (indicator 1.2), by agency and sex", (
            Col("Agency", width=13), Col("Women {{period}}", INT), Col("Men {{period}}", INT),
            Col("Total {{period}}", INT), Col("Women to date", INT), Col("Men to date", INT),
            Col("Total to date", INT))),
    )),
    SheetLayout(SUPPORT, (
        Section("Engagements", None, (
            Col("Engagement ID", width=13), Col("Date", DATE, 12), Col("Quarter", width=9),
            Col("Fiscal quarter", width=13), Col("Type", width=16), Col("County", width=13),
            Col("Case reference", width=20), Col("Hours", MONEY, 8), Col("HTI advisor", width=18),
            Col("ODPP counterpart", width=18), Col("Summary", width=50))),
        Section("EngagementsByType", "Engagements and hours by type (indicators 2.1 and 2.3)", (
            Col("Type", width=16), Col("Engagements {{period}}", INT), Col("Hours {{period}}", MONEY),
            Col("Engagements to date", INT), Col("Hours to date", MONEY))),
    )),
    SheetLayout(MILESTONES, (
        Section("Milestones", None, (
            Col("Milestone ID", width=12), Col("Title", width=42), Col("Workstream", width=17),
            Col("Owner", width=8), Col("Original due date", DATE, 12), Col("Current due date", DATE, 12),
            Col("Slippage (days)", INT, 10), Col("Status", width=12), Col("Completed on", DATE, 12),
            Col("Completed vs original due (days)", INT, 13), Col("Overdue at end of {{period}}", width=12),
            Col("Evidence", width=40), Col("Evidence SHA-256", width=20))),
    )),
    SheetLayout(HISTORY, (
        Section("MilestoneHistory", None, (
            Col("When (UTC)", DATETIME, 19), Col("Event", INT, 8), Col("Milestone ID", width=12),
            Col("Action", width=9), Col("Field", width=18), Col("Old value", VAR, 24), Col("New value", VAR, 24),
            Col("Changed by", width=16), Col("Reason category", width=22), Col("Reason", width=44))),
    )),
    SheetLayout(FINANCE, (
        Section("GrantFigures", None, (
            Col("Grant", width=14), Col("Figure", width=44), Col("Value", VAR, 16), Col("Unit", width=16))),
        Section("SF425", "{{sf425_title}}", (
            Col("Grant"), Col("Item", width=44), Col("Line", width=8), Col("Amount", MONEY, 16),
            Col("Rate (%)", VAR, 12), Col("Base", MONEY, 15), Col("How computed", width=40),
            Col("Currency", width=9)), optional=True),
        Section("BudgetLines", "Budget against spending, by budget line (to the end of {{period}})", (
            Col("Grant"), Col("Line"), Col("Line code"), Col("Category", width=20), Col("Budget", MONEY, 15),
            Col("Spent to date", MONEY, 15), Col("Remaining", MONEY, 15), Col("% utilised", PCT, 11))),
        Section("Disbursements", "Disbursements received (to the end of {{period}})", (
            Col("Grant"), Col("Reference"), Col("Date", DATE), Col("Currency"), Col("Amount", MONEY, 15),
            Col("Rate", RATE, 15), Col("Amount in grant currency", MONEY, 15))),
        Section("Commitments", "Commitments (obligations) to the end of {{period}}: Open until paid, then Liquidated", (
            Col("Grant"), Col("Commitment ID"), Col("Date", DATE), Col("Line code"), Col("Status"),
            Col("Currency"), Col("Amount", MONEY, 15), Col("Description", width=40), Col("Rate", RATE, 15),
            Col("Amount in grant currency", MONEY, 15)), optional=True),
    )),
    SheetLayout(DEVELOPMENTS, (
        Section("Developments", None, (
            Col("Date", DATE, 12), Col("Quarter", width=9), Col("Fiscal quarter", width=13),
            Col("Category", width=16), Col("Development", width=56), Col("Reference", width=16))),
    )),
    SheetLayout(DEFINITIONS, (
        Section("Definitions", None, (
            Col("Code", width=7), Col("Indicator", width=34), Col("Unit", width=14), Col("Kind", width=7),
            Col("Source of figures", width=14), Col("Direction", width=12), Col("On track from (%)", DEC1, 10),
            Col("On track to (%)", DEC1, 10), Col("Definition", width=44), Col("Data source", width=34),
            Col("How computed", width=60), Col("Disaggregations", width=22), Col("Baseline", VAR, 10),
            Col("Baseline date", DATE, 12), Col("Baseline source", width=30), Col("Baseline comment", width=30))),
    )),
    SheetLayout(SIGNOFF, (
        Section("Signoffs", None, (
            Col("Quarter", width=9), Col("Party", width=10), Col("Signed by", width=18),
            Col("Signed at (UTC)", DATETIME, 19), Col("Comment", width=44), Col("Audit event", INT, 10),
            Col("Audit-chain head", width=68), Col("Key fingerprint", width=54), Col("Signature", width=24))),
        Section("Restatements", "Restatements of signed or locked quarters, to the end of {{period}}", (
            Col("Quarter"), Col("Indicator"), Col("Reported"), Col("Restated"), Col("Reason"),
            Col("When (UTC)", DATETIME, 19), Col("Changed by"), Col("Reason category", width=22))),
    )),
    SheetLayout(PARTICIPANTS, (
        Section("Participants", None, (
            Col("Training ID", width=13), Col("Training end date", DATE, 12), Col("Quarter", width=9),
            Col("Name", width=28), Col("Sex", width=5), Col("Agency", width=14), Col("Role", width=16),
            Col("Staff number", width=14), Col("Pre-test score", DEC1, 9), Col("Post-test score", DEC1, 9))),
    )),
)

SHEETS_BY_NAME = {s.name: s for s in SHEETS}
