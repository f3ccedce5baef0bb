"""``Services``: the one entry point to every write of the programme's records (the facade).

The CLI, the UI and the importer call ``Services(db, actor)``; behind it each family of records has its own
module, where its rules live: ``trainings`` (trainings, people, attendance), ``support`` (engagements),
``milestones``, ``grant`` (grant, budget, disbursements, expenditures), ``funder`` (commitments, indirect
costs, significant developments, baselines), ``results`` (indicators, targets,
results, narratives), ``setup`` (partnership, parties, users) and ``bulk`` (the batch path). All of them
write through the ``UnitOfWork`` (``unit_of_work``), which audits every change in the same transaction and
rolls back unless committed. Create and update are different operations: ``create_*`` refuses an ID that
exists (``AlreadyExists``, with the next free ID), ``update_*`` refuses one that does not (``NotFound``).
Import is the one upsert: it decides per row, by comparing with what is stored, which of the two to call.
"""

from __future__ import annotations

from mou_tracker.services.bulk import BulkWrites
from mou_tracker.services.funder import FunderWrites
from mou_tracker.services.grant import GrantWrites
from mou_tracker.services.milestones import MilestoneWrites
from mou_tracker.services.records import (
    ATTENDANCE_FIELDS,
    BASELINE_FIELDS,
    BUDGET_FIELDS,
    COMMITMENT_FIELDS,
    DEVELOPMENT_FIELDS,
    DISBURSEMENT_FIELDS,
    ENGAGEMENT_FIELDS,
    ENTITY_FIELDS,
    EXPENDITURE_FIELDS,
    GRANT_FIELDS,
    INDICATOR_FIELDS,
    MILESTONE_FIELDS,
    NARRATIVE_FIELDS,
    PARTICIPANT_FIELDS,
    RESULT_FIELDS,
    TARGET_FIELDS,
    TRAINING_FIELDS,
)
from mou_tracker.services.results import ResultWrites
from mou_tracker.services.setup import SetupWrites
from mou_tracker.services.support import SupportWrites
from mou_tracker.services.trainings import RecognisedParticipant, TrainingWrites
from mou_tracker.services.unit_of_work import SaveResult, UnitOfWork


class Services(TrainingWrites, SupportWrites, MilestoneWrites, FunderWrites, GrantWrites, ResultWrites, SetupWrites,
               BulkWrites):
    """The service layer for one database, one actor and (once resolved) one partnership."""


__all__ = [
    "ATTENDANCE_FIELDS", "BASELINE_FIELDS", "BUDGET_FIELDS", "COMMITMENT_FIELDS", "DEVELOPMENT_FIELDS",
    "DISBURSEMENT_FIELDS", "ENGAGEMENT_FIELDS", "ENTITY_FIELDS",
    "EXPENDITURE_FIELDS", "GRANT_FIELDS", "INDICATOR_FIELDS", "MILESTONE_FIELDS", "NARRATIVE_FIELDS",
    "PARTICIPANT_FIELDS", "RESULT_FIELDS", "TARGET_FIELDS", "TRAINING_FIELDS", "RecognisedParticipant",
    "SaveResult", "Services", "UnitOfWork",
]
