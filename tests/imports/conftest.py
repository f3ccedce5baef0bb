"""Fixtures of the import tests: more fresh databases on the same backend as the test's own."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mou_tracker.db.engine import Database
from mou_tracker.services import Services
from tests.conftest import _fresh_url


@pytest.fixture
def fresh_services(backend: str, request: pytest.FixtureRequest, tmp_path: Path
                   ) -> Iterator[Callable[[str], Services]]:
    """``fresh_services(name)``: Services on another new, seeded database of the test's backend."""
    made: list[Database] = []

    def make(name: str) -> Services:
        folder = tmp_path / name
        folder.mkdir()
        db = Database(_fresh_url(backend, request, folder))
        made.append(db)
        services = Services(db, "tester")
        services.seed_standard()
        return services

    yield make
    for db in made:
        db.dispose()
