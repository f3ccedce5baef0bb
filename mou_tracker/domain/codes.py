"""The coded vocabularies of the programme (docs/reference: indicators, grant, import-format, audit-and-signoff).

Each vocabulary is a tuple of canonical spellings; ``canonical(value, vocabulary)`` maps user input
(case-insensitive, trimmed) onto one of them or returns None.
"""

from __future__ import annotations

SEXES = ("F", "M")
AGENCIES = ("ODPP", "DCI", "Judiciary", "Immigration", "Labour", "Children Services", "NGO", "Other")
DELIVERIES = ("In person", "Virtual", "Hybrid")
LEADS = ("HTI", "ODPP", "Joint")
ENGAGEMENT_TYPES = ("Case mentoring", "Case review", "Trial support", "SOP development", "Coordination", "Other")
CASE_MENTORING = "Case mentoring"
WORKSTREAMS = ("Capacity building", "Technical support", "Strategic advice")
OWNERS = ("HTI", "ODPP", "Joint")
MILESTONE_STATUSES = ("Not started", "In progress", "Submitted", "Completed", "Delayed", "Cancelled")
COMPLETED = "Completed"
CANCELLED = "Cancelled"
ROLES = ("admin", "manager", "evaluator")
INDICATOR_KINDS = ("sum", "level")
PARTIES = ("hti", "odpp")
BUDGET_CATEGORIES = ("Training", "Technical support", "Strategic advice", "Personnel", "Travel", "Operations",
                     "Monitoring and evaluation", "Other")
COMMITMENT_STATUSES = ("Open", "Liquidated")
OPEN = "Open"
DEVELOPMENT_CATEGORIES = ("Risk", "Opportunity", "Delay", "Change in context", "Other")

REASON_CATEGORIES = (
    "implementation delay",
    "re-planning agreed by both parties",
    "data correction",
    "donor requirement",
    "change in context",
    "other",
)

# Progress order of milestone statuses; Delayed and Cancelled stand apart (moving to them is not "backwards",
# and moving out of Cancelled or Completed to an earlier stage is).
_STATUS_RANK = {"Not started": 0, "In progress": 1, "Delayed": 1, "Submitted": 2, "Completed": 3, "Cancelled": 3}


def status_moves_backwards(old: str | None, new: str) -> bool:
    if old is None or old == new:
        return False
    if new == CANCELLED:
        return False
    if old == CANCELLED:
        return True
    return _STATUS_RANK[new] < _STATUS_RANK[old]


def canonical(value: object, vocabulary: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split()).casefold()
    for item in vocabulary:
        if item.casefold() == text:
            return item
    return None


KENYA_COUNTIES = (
    "Mombasa", "Kwale", "Kilifi", "Tana River", "Lamu", "Taita-Taveta", "Garissa", "Wajir", "Mandera",
    "Marsabit", "Isiolo", "Meru", "Tharaka-Nithi", "Embu", "Kitui", "Machakos", "Makueni", "Nyandarua",
    "Nyeri", "Kirinyaga", "Murang'a", "Kiambu", "Turkana", "West Pokot", "Samburu", "Trans-Nzoia",
    "Uasin Gishu", "Elgeyo-Marakwet", "Nandi", "Baringo", "Laikipia", "Nakuru", "Narok", "Kajiado", "Kericho",
    "Bomet", "Kakamega", "Vihiga", "Bungoma", "Busia", "Siaya", "Kisumu", "Homa Bay", "Migori", "Kisii",
    "Nyamira", "Nairobi",
)


def _county_key(text: str) -> str:
    key = " ".join(str(text).replace("-", " ").replace("\u2019", "'").split()).casefold()
    if key.endswith(" county"):  # "Nairobi City County", the county's own name, as well as "Nairobi City"
        key = key[: -len(" county")]
    if key.endswith(" city"):
        key = key[: -len(" city")]
    return key


_COUNTY_INDEX = {_county_key(c): c for c in KENYA_COUNTIES}
_COUNTY_INDEX.update({"muranga": "Murang'a", "taita taveta": "Taita-Taveta", "tharaka nithi": "Tharaka-Nithi",
                      "elgeyo marakwet": "Elgeyo-Marakwet", "trans nzoia": "Trans-Nzoia"})


def has_kenya_counties(country: str | None) -> bool:
    """Whether a partnership's places are Kenya's 47 counties: its country is Kenya (the only country whose
    subdivisions are known here)."""
    return country is None or " ".join(country.split()).casefold() == "kenya"


def canonical_county(value: object) -> str | None:
    """One of Kenya's 47 counties, case-insensitive; "Nairobi City" is Nairobi."""
    if value is None:
        return None
    return _COUNTY_INDEX.get(_county_key(str(value)))
