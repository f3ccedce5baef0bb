"""What every screen needs to know: where to read, how to write, and what the user may do.

The context is the composition root's ``App`` (``mou_tracker.app_root``): reads go through
``ctx.reader`` (``mou_tracker.read.Reader``: live, or as of a past day, usable from any worker thread),
writes through ``ctx.services`` only, which refuses them in read-only sessions anyway. The UI never holds
a database or a session.
"""

from __future__ import annotations

from mou_tracker.app_root import App as UIContext

__all__ = ["UIContext"]
