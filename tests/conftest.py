"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL server that this test run
starts itself. Set MOU_TEST_PG=off to skip PostgreSQL on a developer machine without the server; in CI
(CI=true) a missing server is always a failure."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mou_tracker.db.engine import Database
from mou_tracker.db.migrate import upgrade_to_head
from mou_tracker.services import Services
from tests.pgcluster import PostgresUnavailable, ThrowawayPostgres

BACKENDS = ["sqlite", "postgresql"]
_counter = itertools.count()


def _pg_wanted() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("MOU_TEST_PG", "on") != "off"


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests away from the developer's own database, data and config folders (the UI's settings) and
    identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("MOU_TRACKER_DB", raising=False)
    monkeypatch.setenv("MOU_TRACKER_USER", "tester")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ThrowawayPostgres]:
    if not _pg_wanted():
        pytest.skip("PostgreSQL tests switched off (MOU_TEST_PG=off)")
    try:
        server = ThrowawayPostgres().start()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is required for these tests and could not be started: {exc}")
    try:
        server.admin("CREATE DATABASE mou_template")
        template = Database(server.url("mou_template"))
        upgrade_to_head(template)
        template.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade_to_head(db)
    db.dispose()
    return path


def _fresh_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    server: ThrowawayPostgres = request.getfixturevalue("pg_server")
    name = f"t{os.getpid()}_{next(_counter)}"
    server.admin(f"CREATE DATABASE {name} TEMPLATE mou_template")
    # dropped after the test (whatever it left connected): a run's hundreds of databases took gigabytes and
    # half a minute to delete at the end of each worker
    request.addfinalizer(lambda: server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    return server.url(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        request.applymarker(pytest.mark.postgres)
    return request.param


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database on each backend."""
    return _fresh_url(backend, request, tmp_path)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def services(db: Database) -> Services:
    """Services on a database seeded with the standard ODPP-HTI partnership and framework."""
    svc = Services(db, "tester")
    svc.seed_standard()
    return svc


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A demo database (SQLite), built once per run; copy it before changing it."""
    from datetime import date

    from mou_tracker.services.demo import load_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    load_demo(Services(db, "demo"), today=date(2026, 11, 29))
    db.dispose()
    return path


@pytest.fixture
def demo_db(demo_sqlite: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "demo.db"
    shutil.copy(demo_sqlite, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()
