"""Errors a user can act on. The CLI prints them one line per problem; the UI shows them inline."""

from __future__ import annotations

from dataclasses import dataclass


class MouError(Exception):
    """An error with a message meant for the user (never a traceback)."""

    def lines(self) -> list[str]:
        return [str(self)]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: ``field`` names the field (or ``Sheet!A12`` for a workbook)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(MouError):
    def __init__(self, problems: list[Problem] | Problem, context: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.context = context
        super().__init__("; ".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        prefix = f"{self.context}: " if self.context else ""
        return [f"{prefix}{p}" for p in self.problems]

    def for_field(self, field: str) -> list[str]:
        return [p.message for p in self.problems if p.field == field]


class ReasonRequired(ValidationError):
    """The change needs a categorised reason in the audit trail (docs/reference/audit-and-signoff.md)."""


class PermissionDenied(MouError):
    pass


class NotFound(MouError):
    pass


class DatabaseProblem(MouError):
    """The database is missing, unreadable, corrupt or from a newer version."""


class AlreadyExists(ValidationError):
    """Adding a record whose ID (or identity) is already taken: the existing record is named, never replaced.

    ``kind`` is the record kind (``training``, ``engagement``...), ``code`` the taken ID and ``suggestion`` the
    next free ID when one can be proposed, so the UI can offer to open the existing record or use the next ID.
    """

    def __init__(self, problem: Problem, *, kind: str, code: str, suggestion: str | None = None) -> None:
        super().__init__(problem)
        self.kind = kind
        self.code = code
        self.suggestion = suggestion
