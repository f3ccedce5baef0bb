"""The composition root: where the database is opened and the reader and the writer are built from it.

    with open_app(Settings(db_url, user="grace", partnership="KE-HTI-ODPP", as_of=None)) as app:
        app.reader.progress(Quarter(2025, 3))      # reads: mou_tracker.read.Reader
        app.services.create_milestone({...})        # writes: mou_tracker.services.Services

The CLI and the terminal UI (``tui.app.build_app``) both start here, and nothing else opens the database:
the UI never sees a ``Database`` or a ``Session``. ``open_database`` checks and upgrades the schema and, on
PostgreSQL, takes the database login as the actor (a ``--user`` naming anyone else is refused up front).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from mou_tracker.db.engine import Database
from mou_tracker.errors import MouError, NotFound
from mou_tracker.read.reader import Reader
from mou_tracker.services.programme import Services


@dataclass(frozen=True)
class Settings:
    """What a session is opened with, resolved from the command line, the environment and the defaults."""

    db_url: str
    #: who acts, as given (--user); None: $MOU_TRACKER_USER, else the OS login (on PostgreSQL: the login)
    user: str | None = None
    partnership: str | None = None
    read_only: bool = False
    #: read the state at the end of this day, rebuilt from the audit trail (read-only)
    as_of: date | None = None
    #: fixes "today" (tests, benchmarks, the demo)
    today: date | None = None


def database_login(db: Database, claimed: str | None) -> str | None:
    """On PostgreSQL the actor is the database login, which the database records itself: a --user naming
    anyone else is refused before anything is done, whoever the login is. None on SQLite."""
    if db.dialect != "postgresql":
        return None
    from sqlalchemy import text

    with db.engine.connect() as conn:
        login = conn.execute(text("SELECT session_user::text")).scalar_one()
    claimed = (claimed or "").strip()
    if claimed and claimed != login:
        raise MouError(f"connected to PostgreSQL as {login}: on PostgreSQL the actor is the database login, "
                       f"so --user {claimed} is refused (drop --user, or connect as {claimed})")
    return str(login)


def open_database(url: str, *, create: bool = False, user: str | None = None) -> tuple[Database, str | None]:
    """Open the database, upgrading it to the current schema (every app start does); with it, the
    PostgreSQL login that acts (None on SQLite)."""
    from mou_tracker.db.engine import sqlite_path
    from mou_tracker.db.migrate import check_database, upgrade_to_head

    path = sqlite_path(url)
    if create and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    check_database(db, must_exist=not create)
    login = database_login(db, user)
    upgrade_to_head(db)
    return db, login


@dataclass
class App:
    """One opened session: the reader (live or as of a day), the writer, and who acts with what rights."""

    reader: Reader
    services: Services
    actor: str
    role: str | None
    read_only: bool
    as_of: date | None
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    _code: str | None = field(default=None, repr=False)
    #: the database this session opened itself (closed with it); None when it was handed one
    _opened: Database | None = field(default=None, repr=False)

    @property
    def partnership_id(self) -> int:
        return self.reader.partnership_id

    @property
    def partnership_code(self) -> str:
        """The partnership's code (as it stands now, even in an as-of view)."""
        if self._code is None:
            with self.reader.at(None) as live:
                self._code = live.info().code
        return self._code

    @property
    def reference_day(self) -> date:
        """'Today' for the dashboard: the as-of day when looking back, else today."""
        return self.as_of or self.today

    def switch(self, code: str) -> App:
        """The same session (actor, rights, as-of day, today) on another partnership of the same database.
        The partnership is looked up now (NotFound, one line, when the code names none; this session is then
        left as it was); otherwise this session's reader is closed and the database passes to the new one."""
        reader = self.reader.for_partnership(code)
        try:
            with reader.at(None) as live:
                found = live.info().code
            if self.as_of is not None:
                try:
                    reader.info()  # the state of that day: the partnership must have existed then
                except NotFound:
                    raise NotFound(f"partnership {found} did not exist yet on {self.as_of.isoformat()}") from None
        except BaseException:
            reader.close()
            raise
        services = Services(self.services.db, self.actor, partnership=found, read_only=self.read_only)
        other = App(reader, services, self.actor, self.role, self.read_only, self.as_of, self.today, found,
                    self._opened)
        self._opened = None
        self.reader.close()
        return other

    def close(self) -> None:
        self.reader.close()
        if self._opened is not None:
            self._opened.dispose()
            self._opened = None

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_app(settings: Settings, *, database: Database | None = None, resolve: bool = True) -> App:
    """Open the database named by the settings (or use ``database``, already open: tests, benchmarks) and
    build the reader and the writer for its partnership. With ``resolve`` the partnership and the user's
    rights are settled now, so that problems reach the caller as one-line errors before anything starts.
    Evaluators and as-of views are read-only; the service layer enforces it too."""
    from mou_tracker.config import resolve_user

    login, opened = None, None
    if database is None:
        opened, login = open_database(settings.db_url, user=settings.user)
        database = opened
    actor = login or resolve_user(settings.user)
    reader = Reader(database, partnership=settings.partnership, as_of=settings.as_of)
    role = reader.role_of(actor)
    read_only = settings.read_only or settings.as_of is not None or role == "evaluator"
    services = Services(database, actor, partnership=settings.partnership, read_only=read_only)
    app = App(reader, services, actor, role, read_only, settings.as_of, _opened=opened)
    if settings.today is not None:
        app.today = settings.today
    if resolve:
        app.partnership_code  # noqa: B018 - the partnership is looked up now: a wrong code fails here
    return app
