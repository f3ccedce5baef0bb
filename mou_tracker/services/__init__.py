"""The service layer: every write (validated, audited) and the read-side queries.

The UI and the CLI call only this package (and ``reports``); nothing else writes the database.
"""

from mou_tracker.services.audit import Reason
from mou_tracker.services.programme import RecognisedParticipant, SaveResult, Services
from mou_tracker.services.unit_of_work import UnitOfWork

__all__ = ["Reason", "RecognisedParticipant", "SaveResult", "Services", "UnitOfWork"]
