"""The service layer: every write (validated, audited), and the computations the reader calls (the
indicator engine, the grant figures); the read side itself is ``mou_tracker.read``.

The UI and the CLI call only this package (and ``reports``); nothing else writes the database.
"""

from mou_tracker.services.audit import Reason
from mou_tracker.services.programme import RecognisedParticipant, SaveResult, Services
from mou_tracker.services.unit_of_work import UnitOfWork

__all__ = ["Reason", "RecognisedParticipant", "SaveResult", "Services", "UnitOfWork"]
