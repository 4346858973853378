"""House rules that keep the code where docs/design.md says it lives.

Statements live in ``src/aurora_cutover/sql/``: every string constant of a product module outside it is scanned
(docstrings aside: they show examples) for the opening words of a SQL statement. Building stays pure in sql/;
running happens elsewhere with what sql/ built.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "aurora_cutover"
ROOT = SRC.parents[1]

# Opening words of a statement, upper case as the product writes them (English prose in messages is not
# upper case: "Set aside", "select a table" do not match).
STATEMENT = re.compile(
    r"^\s*(SELECT\s|SHOW\s|INSERT\s+(IGNORE\s+)?INTO\s|UPDATE\s+\S+\s+SET\s|DELETE\s+FROM\s|REPLACE\s+INTO\s|CALL\s+\w|"
    r"(CREATE|ALTER|DROP)\s+(TABLE|USER|DATABASE|SCHEMA|TRIGGER|PROCEDURE|EVENT|VIEW|INDEX|FUNCTION|TEMPORARY)\b|"
    r"KILL\s|SET\s+(GLOBAL|SESSION|@@|@|NAMES|TRANSACTION|time_zone|\w+\s*=)|(START|STOP)\s+(SLAVE|REPLICA|TRANSACTION)\b|"
    r"RESET\s+(SLAVE|REPLICA|MASTER)\b|CHANGE\s+(MASTER|REPLICATION)\s|FLUSH\s|LOCK\s+TABLES?\b|UNLOCK\s+TABLES\b|"
    r"GRANT\s|REVOKE\s|TRUNCATE\s|COMMIT\b|ROLLBACK\b|BEGIN\b|PURGE\s|XA\s)")

# Rooms that may still hold statement text, and why. The lead shrinks this list as the rooms are merged.
ALLOWED = {
    # Stays: the lab builds fake servers (RDS procedures, seed data); that SQL is the lab's, not the product's.
    "lab/": "lab setup SQL (the issue allows it to stay under lab/)",
    # Stays: the rehearsal's simulated application and its journal reader write the application's own
    # statements (what the product is tested against), not the product's.
    "rehearsal/": "the simulated application's statements",
}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def statements_in(source: str) -> list[tuple[int, str]]:
    """(line, text) of every non-docstring string constant (f-string parts included) that opens a statement.

    >>> statements_in('q = "SELECT 1"\\nmsg = "Set aside: not applicable"\\n')
    [(1, 'SELECT 1')]
    """
    tree = ast.parse(source)
    docs = _docstrings(tree)
    return sorted((n.lineno, n.value) for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
                  and STATEMENT.match(n.value))


def _product_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if not p.relative_to(SRC).as_posix().startswith("sql/"))


def _allowed(rel: str) -> bool:
    return any(rel.startswith(room) for room in ALLOWED)


def test_the_scanner_finds_statements_and_not_prose():
    found = statements_in('a = "SELECT @@server_id"\nb = f"SET GLOBAL x = {1}"\nc = "Select a table"\n'
                          'd = "ALTER TABLE t ADD c INT"\ndef f():\n    """SELECT in a docstring is an example."""\n')
    assert [text for _line, text in found] == ["SELECT @@server_id", "SET GLOBAL x = ", "ALTER TABLE t ADD c INT"]


@pytest.mark.parametrize("path", _product_files(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_no_product_statement_outside_sql(path: Path):
    rel = path.relative_to(SRC).as_posix()
    found = statements_in(path.read_text())
    if _allowed(rel):
        return
    assert not found, (f"{rel} holds statement text (build it in src/aurora_cutover/sql/): "
                       + "; ".join(f"line {line}: {text[:60]!r}" for line, text in found))


@pytest.mark.parametrize("folder", ["checks", "actions"])
def test_no_statement_in_the_thin_tests(folder: str):
    found = [f"{p.name}:{line}: {text[:60]!r}" for p in sorted((ROOT / folder).glob("*.py"))
             for line, text in statements_in(p.read_text())]
    assert not found, f"{folder}/ runs statements built in sql/, it does not write them: " + "; ".join(found)


def test_every_allowed_room_still_needs_its_place():
    """An allowlist entry whose room no longer holds statement text is stale: delete it."""
    holding = {room for room in ALLOWED for p in _product_files()
               if p.relative_to(SRC).as_posix().startswith(room) and statements_in(p.read_text())}
    assert holding == set(ALLOWED), f"stale allowlist entries: {sorted(set(ALLOWED) - holding)}"
