"""Party report profiles: which template, which sheets. The fiscal calendar (start month, label style) and
the party's currency are the party's own settings in the database (``Services.update_party``).

Templates live in the package (``mou_tracker.paths.templates_dir()``). The environment variable
``MOU_TRACKER_TEMPLATES`` names another folder to take them from instead (copy ``hti.xlsx`` and ``odpp.xlsx``
there and restyle them); when it is set, the party's template must be in that folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mou_tracker.paths import templates_dir
from mou_tracker.reports.layout import (
    COVER,
    DEFINITIONS,
    DEVELOPMENTS,
    FINANCE,
    HISTORY,
    INDICATORS,
    MILESTONES,
    SIGNOFF,
    SUMMARY,
    SUPPORT,
    TRAININGS,
)

TEMPLATES_ENV = "MOU_TRACKER_TEMPLATES"


@dataclass(frozen=True)
class ReportProfile:
    party: str
    #: the sheets this party's report carries (Participants is added only on request, for names)
    sheets: tuple[str, ...]

    @property
    def template_name(self) -> str:
        return f"{self.party}.xlsx"


# Both parties of the MoU receive the whole picture: HTI as the implementer answerable to its funder, ODPP as
# the partner whose prosecutors are trained and whose cases are mentored. A party that wants less can drop
# an optional sheet from its template (the report then leaves it out and says so).
ALL_SHEETS = (COVER, SUMMARY, INDICATORS, TRAININGS, SUPPORT, MILESTONES, HISTORY, FINANCE, DEVELOPMENTS, DEFINITIONS,
              SIGNOFF)
PROFILES = {
    "hti": ReportProfile("hti", ALL_SHEETS),
    "odpp": ReportProfile("odpp", ALL_SHEETS),
}


#: the template of a partner party that has none of its own (DCI in a DCI-HTI partnership, say): the national
#: partner's, which holds the same sheets and placeholders as HTI's
PARTNER_TEMPLATE = "odpp.xlsx"


def profile_for(party: str) -> ReportProfile:
    """The report profile of a party code: HTI's and ODPP's own, else a partner party's (every sheet)."""
    code = party.strip().lower()
    return PROFILES.get(code) or ReportProfile(code, ALL_SHEETS)


def template_path(profile: ReportProfile) -> Path:
    """The party's template: ``<party>.xlsx`` in the templates folder; a party without one of its own takes
    the partner template (``odpp.xlsx``)."""
    override = os.environ.get(TEMPLATES_ENV)
    folder = Path(override).expanduser() if override else templates_dir()
    own = folder / profile.template_name
    if profile.party in PROFILES or own.is_file():
        return own
    return folder / PARTNER_TEMPLATE
