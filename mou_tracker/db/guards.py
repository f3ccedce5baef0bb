"""The database's own guards of the audit trail, and how `audit verify` checks they still stand.

The SQL lives in the migrations (a migration is a snapshot; it must not change when this file does). To
check the guards, the expected definitions are read from those very migration files, so a trigger replaced
by a do-nothing one of the same name, a disabled trigger, or a rewritten trigger function is named, not only
a missing one. The database's own integrity check and catalogue checks (rules, row security) close the
other ways a database can hide rows or changes from a reader.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, text

GENESIS_HASH = "0" * 64

SQLITE_TRIGGERS = ("audit_event_no_update", "audit_event_no_delete", "audit_event_append_only")
POSTGRES_TRIGGERS = (
    "audit_event_no_update",
    "audit_event_no_delete",
    "audit_event_no_truncate",
    "audit_event_append_only",
    "audit_event_login",
)
#: the migrations whose statements create the guards (constant names inside them)
_GUARD_MIGRATIONS = (("0002_audit_guards.py", "SQLITE_UP", "POSTGRES_UP"),
                     ("0005_identity_signatures.py", None, "POSTGRES_UP"))
_WS = re.compile(r"\s+")


def _norm(sql: str) -> str:
    return _WS.sub(" ", sql).strip().rstrip(";").strip()


def _constants(path: str) -> dict[str, list[str]]:
    """The list-of-string constants of a migration file, read without running it."""
    from mou_tracker.paths import migrations_dir

    source = (migrations_dir() / "versions" / path).read_text(encoding="utf-8")
    tree = ast.parse(source)
    names: dict[str, object] = {}
    out: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            try:
                value = _eval(node.value, names)
            except ValueError:
                continue
            names[name] = value
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                out[name] = value
    return out


def _eval(node: ast.AST, names: dict[str, object]) -> object:
    """Literal lists of strings and f-strings naming module constants (GENESIS), nothing else."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left, right = _eval(node.left, names), _eval(node.right, names)
        if isinstance(left, str) and isinstance(right, int):
            return left * right
    if isinstance(node, ast.List):
        return [_eval(e, names) for e in node.elts]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                parts.append(str(_eval(v.value, names)))
        return "".join(parts)
    raise ValueError("not a literal")


@dataclass(frozen=True)
class Expected:
    triggers: dict[str, str]  # name -> normalised CREATE TRIGGER statement
    functions: dict[str, str]  # name -> normalised body


@lru_cache(maxsize=2)
def expected_guards(dialect: str) -> Expected:
    triggers: dict[str, str] = {}
    functions: dict[str, str] = {}
    for path, sqlite_name, pg_name in _GUARD_MIGRATIONS:
        name = sqlite_name if dialect == "sqlite" else pg_name
        if name is None:
            continue
        for statement in _constants(path).get(name, []):
            m = re.match(r"\s*CREATE\s+TRIGGER\s+(\w+)", statement, re.IGNORECASE)
            if m:
                triggers[m.group(1)] = _norm(statement)
            m = re.match(r"\s*CREATE\s+FUNCTION\s+(\w+)\(\).*?AS\s+\$\$(.*)\$\$", statement, re.IGNORECASE | re.DOTALL)
            if m:
                functions[m.group(1)] = _norm(m.group(2))
    return Expected(triggers, functions)


def missing_guards(conn: Connection) -> list[str]:
    """Names of the audit-trail triggers that should exist on this database but do not."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        expected: tuple[str, ...] = SQLITE_TRIGGERS
    else:
        rows = conn.execute(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal")
        ).scalars()
        expected = POSTGRES_TRIGGERS
    present = set(rows)
    return [name for name in expected if name not in present]


def guard_problems(conn: Connection) -> list[str]:
    """Everything wrong with the guards: missing, redefined, disabled, extra; rules or row security on the
    trail (PostgreSQL). One message per problem; empty when the guards stand as the migrations made them."""
    expected = expected_guards(conn.dialect.name)
    problems: list[str] = []
    if conn.dialect.name == "sqlite":
        rows = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                                      "tbl_name = 'audit_event'")).all())
        missing = [name for name in expected.triggers if name not in rows]
        if missing:
            problems.append(f"the database guard(s) {', '.join(missing)} missing: the audit table is no longer "
                            "append-only (dropped, or lost in a table rebuild)")
        for name, statement in expected.triggers.items():
            if name in rows and _norm(rows[name] or "") != statement:
                problems.append(f"guard trigger {name} has been replaced: its definition is not the one the "
                                "migrations create, so it may no longer refuse anything")
        for name in sorted(set(rows) - set(expected.triggers)):
            problems.append(f"an unexpected trigger {name} sits on the audit table (not created by the migrations)")
        return problems
    rows = {r[0]: r for r in conn.execute(text(
        "SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, p.proname FROM pg_trigger t "
        "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = to_regclass('audit_event') AND NOT t.tgisinternal"
    )).all()}
    missing = [name for name in expected.triggers if name not in rows]
    if missing:
        problems.append(f"the database guard(s) {', '.join(missing)} missing: the audit table is no longer "
                        "append-only (dropped, or lost in a table rebuild)")
    for name, statement in expected.triggers.items():
        row = rows.get(name)
        if row is None:
            continue
        if _norm(str(row[1]).replace("public.", "")) != statement.replace("public.", ""):
            problems.append(f"guard trigger {name} has been redefined: it is not the one the migrations create")
        if row[2] not in ("O", "A"):
            problems.append(f"guard trigger {name} is disabled (ALTER TABLE ... DISABLE TRIGGER): the audit table "
                            "accepts UPDATE and DELETE")
    for name in sorted(set(rows) - set(expected.triggers)):
        problems.append(f"an unexpected trigger {name} sits on the audit table (not created by the migrations)")
    bodies = dict(conn.execute(text("SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(:names)"),
                               {"names": list(expected.functions)}).all())
    for name, body in expected.functions.items():
        if name not in bodies:
            problems.append(f"guard function {name}() is missing")
        elif _norm(bodies[name]) != body:
            problems.append(f"guard function {name}() has been rewritten: its body is not the one the migrations "
                            "create")
    row = conn.execute(text("SELECT relkind, relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = "
                            "to_regclass('audit_event')")).first()
    if row is not None and (row[1] or row[2]):
        problems.append("row-level security is enabled on the audit table: policies could hide events from "
                        "readers")
    if row is not None and row[0] != "r":
        problems.append("the audit table is not a plain table any more")
    rules = conn.execute(text("SELECT rulename FROM pg_rules WHERE tablename IN ('audit_event', 'audit_chain_lock')"
                              )).scalars().all()
    for rule in rules:
        problems.append(f"a rewrite rule {rule} sits on the audit table: it could silently drop or redirect events")
    return problems


def integrity_problems(conn: Connection, quick: bool = False) -> list[str]:
    """The database's own consistency check (SQLite: PRAGMA integrity_check; ``quick``: quick_check, which
    checks every page and record but not that indexes match their tables, in a quarter of the time)."""
    if conn.dialect.name != "sqlite":
        return []
    pragma = "quick_check" if quick else "integrity_check"
    rows = [r[0] for r in conn.exec_driver_sql(f"PRAGMA {pragma}(20)").all()]
    if rows == ["ok"]:
        return []
    return [f"the database file fails its own integrity check: {r}" for r in rows[:5]]
