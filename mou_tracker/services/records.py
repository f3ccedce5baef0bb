"""The fields of every record kind: attribute, label (the import workbook's column header and the name a
message gives the field), kind and rules. The services, the importer, the template and the audit views all
read them from here, so a field is described once."""

from __future__ import annotations

from decimal import Decimal

from mou_tracker.domain import codes
from mou_tracker.services.fields import Field

#: decimal places an exchange rate keeps exactly (docs/reference/grant.md); more are rounded half-up, with a note
RATE_SCALE = 10
#: the largest rate accepted (units of grant currency per unit of the amount's currency): keeps every rate and
#: converted amount inside its column on both engines
RATE_MAX = Decimal(10) ** 7

D0 = Decimal(0)
D100 = Decimal(100)

# Field sets: attribute, label (= the import workbook's column header), kind, rules ---------------------------
TRAINING_FIELDS = (
    Field("code", "Training ID", required=True, max_len=60),
    Field("title", "Title", required=True, max_len=300),
    Field("topic", "Topic", required=True),
    Field("start_date", "Start date", "date", required=True),
    Field("end_date", "End date", "date", required=True),
    Field("county", "County", "county", required=True),
    Field("venue", "Venue"),
    Field("delivery", "Delivery", "code", vocab=codes.DELIVERIES),
    Field("lead", "Lead", "code", vocab=codes.LEADS),
    Field("cost", "Cost", "decimal", minimum=D0),
    Field("currency", "Currency", "currency"),
)
ATTENDANCE_FIELDS = (
    Field("training_code", "Training ID", required=True, max_len=60),
    Field("name", "Name", required=True),
    Field("sex", "Sex", "code", required=True, vocab=codes.SEXES),
    Field("agency", "Agency", "code", required=True, vocab=codes.AGENCIES),
    Field("role", "Role"),
    Field("staff_number", "Staff number", max_len=60),
    Field("pre_score", "Pre-test score", "decimal", minimum=D0, maximum=D100),
    Field("post_score", "Post-test score", "decimal", minimum=D0, maximum=D100),
)
#: the explicit edit of a person (``update_participant``): only the fields given are changed
PARTICIPANT_FIELDS = (
    Field("name", "Name", required=True),
    Field("sex", "Sex", "code", required=True, vocab=codes.SEXES),
    Field("agency", "Agency", "code", required=True, vocab=codes.AGENCIES),
    Field("role", "Role"),
    Field("staff_number", "Staff number", max_len=60),
)
ENGAGEMENT_FIELDS = (
    Field("code", "Engagement ID", required=True, max_len=60),
    Field("date", "Date", "date", required=True),
    Field("type", "Type", "code", required=True, vocab=codes.ENGAGEMENT_TYPES),
    Field("county", "County", "county", required=True),
    Field("case_ref", "Case reference", max_len=120),
    Field("hours", "Hours", "decimal", required=True, minimum=D0, maximum=Decimal(10000)),
    Field("hti_advisor", "HTI advisor"),
    Field("odpp_counterpart", "ODPP counterpart"),
    Field("summary", "Summary", max_len=5000),
)
MILESTONE_FIELDS = (
    Field("code", "Milestone ID", required=True, max_len=60),
    Field("title", "Title", required=True, max_len=300),
    Field("workstream", "Workstream", "code", vocab=codes.WORKSTREAMS),
    Field("owner", "Owner", "code", vocab=codes.OWNERS),
    Field("due_date", "Due date", "date", required=True),
    Field("status", "Status", "code", required=True, vocab=codes.MILESTONE_STATUSES),
    Field("completed_on", "Completed on", "date"),
    Field("evidence", "Evidence", max_len=2000),
)
RESULT_FIELDS = (
    Field("indicator_code", "Indicator code", required=True, max_len=20),
    Field("period", "Period", "period", required=True),
    Field("value", "Value", "decimal", required=True),
    Field("source", "Source", max_len=2000),
)
TARGET_FIELDS = (
    Field("indicator_code", "Indicator code", required=True, max_len=20),
    Field("period", "Period", "period", required=True),
    Field("value", "Target", "decimal", required=True, minimum=D0),
)
NARRATIVE_FIELDS = (
    Field("indicator_code", "Indicator code", required=True, max_len=20),
    Field("period", "Period", "period", required=True),
    Field("text", "Narrative", max_len=4000),
)
GRANT_FIELDS = (
    Field("code", "Grant code", required=True, max_len=60),
    Field("funder", "Funder", required=True),
    Field("currency", "Currency", "currency", required=True),
    Field("amount", "Amount", "decimal", required=True, minimum=D0),
    Field("start_date", "Start date", "date", required=True),
    Field("end_date", "End date", "date", required=True),
)
BUDGET_FIELDS = (
    Field("code", "Line code", required=True, max_len=60),
    Field("name", "Name", required=True),
    Field("category", "Category", max_len=60),
    Field("amount", "Amount", "decimal", required=True, minimum=D0),
)
DISBURSEMENT_FIELDS = (
    Field("date", "Date", "date", required=True),
    Field("amount", "Amount", "decimal", required=True, minimum=D0),
    Field("currency", "Currency", "currency", required=True),
    Field("rate", "Rate", "decimal", scale=RATE_SCALE, round_excess=True, minimum=D0,
          maximum=RATE_MAX),
    Field("reference", "Reference", max_len=120),
)
EXPENDITURE_FIELDS = (
    Field("code", "Expenditure ID", required=True, max_len=60),
    Field("date", "Date", "date", required=True),
    Field("line_code", "Line code", required=True, max_len=60),
    Field("description", "Description", required=True, max_len=2000),
    Field("amount", "Amount", "decimal", required=True, minimum=D0),
    Field("currency", "Currency", "currency", required=True),
    Field("rate", "Rate", "decimal", scale=RATE_SCALE, round_excess=True, minimum=D0,
          maximum=RATE_MAX),
    Field("reference", "Reference", max_len=120),
    Field("training_code", "Training ID", max_len=60),
    Field("engagement_code", "Engagement ID", max_len=60),
)
#: a commitment is recorded as an expenditure is (date, budget line, description, amount, currency, rate)
COMMITMENT_FIELDS = (
    Field("code", "Commitment ID", required=True, max_len=60),
    *EXPENDITURE_FIELDS[1:7],
    Field("status", "Status", "code", required=True, vocab=codes.COMMITMENT_STATUSES),
)
BASELINE_FIELDS = (
    Field("indicator_code", "Indicator code", required=True, max_len=20),
    Field("value", "Value", "decimal", required=True),
    Field("date", "Date", "date", required=True),
    Field("source", "Source", max_len=2000),
    Field("comment", "Comment", max_len=4000),
)
DEVELOPMENT_FIELDS = (
    Field("date", "Date", "date", required=True),
    Field("category", "Category", "code", required=True, vocab=codes.DEVELOPMENT_CATEGORIES),
    Field("text", "Text", required=True, max_len=4000),
    Field("reference", "Reference", max_len=120),
)
#: the grant's indirect-cost rate, a percentage kept exactly to 4 decimal places (``set_indirect_rate``)
INDIRECT_RATE_FIELD = Field("indirect_rate", "Indirect cost rate (%)", "decimal", scale=4, minimum=D0,
                            maximum=Decimal(1000))
INDIRECT_BASE_FIELD = Field("indirect_base", "Indirect cost base")
INDICATOR_FIELDS = (
    Field("code", "Indicator code", required=True, max_len=20),
    Field("name", "Name", required=True),
    Field("unit", "Unit", required=True, max_len=60),
    Field("kind", "Kind", "code", required=True, vocab=codes.INDICATOR_KINDS),
    Field("decimals", "Decimals", "int", minimum=D0, maximum=Decimal(4)),
    Field("higher_is_better", "Higher is better"),
    Field("band_low", "Band low (%)", "decimal", minimum=D0, maximum=Decimal(1000)),
    Field("band_high", "Band high (%)", "decimal", minimum=D0, maximum=Decimal(1000)),
    Field("definition", "Definition", max_len=4000),
    Field("data_source", "Data source", max_len=4000),
    Field("how_computed", "How computed", max_len=4000),
    Field("disaggregations", "Disaggregations", max_len=1000),
)

ENTITY_FIELDS: dict[str, tuple[Field, ...]] = {
    "training": TRAINING_FIELDS,
    "attendance": ATTENDANCE_FIELDS,
    "participant": PARTICIPANT_FIELDS,
    "engagement": ENGAGEMENT_FIELDS,
    "milestone": MILESTONE_FIELDS,
    "result": RESULT_FIELDS,
    "target": TARGET_FIELDS,
    "narrative": NARRATIVE_FIELDS,
    "grant": (*GRANT_FIELDS, INDIRECT_RATE_FIELD),
    "budget_line": (*BUDGET_FIELDS, INDIRECT_BASE_FIELD),
    "disbursement": DISBURSEMENT_FIELDS,
    "expenditure": EXPENDITURE_FIELDS,
    "indicator": INDICATOR_FIELDS,
    "commitment": COMMITMENT_FIELDS,
    "baseline": BASELINE_FIELDS,
    "development": DEVELOPMENT_FIELDS,
}
