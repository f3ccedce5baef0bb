"""The service layer: every write (validated, audited) and the read-side queries.

The UI and the CLI call only this package (and ``reports``); nothing else writes the database.
"""

from mou_tracker.services.audit import Reason
from mou_tracker.services.programme import SaveResult, Services

__all__ = ["Reason", "SaveResult", "Services"]
