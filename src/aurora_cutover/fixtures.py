"""The product's pytest fixtures: ``migration``, ``servers``, ``aws`` and each test's ``evidence``.

Registered next to :mod:`aurora_cutover.plugin` (the hooks), as pytest-html registers its fixtures module beside
its plugin. The plugin loads the Migration once and puts it in :data:`MIGRATION`; a test's findings travel to the
report through :data:`TEST_EVIDENCE`.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from aurora_cutover.config import ConfigError, Migration
from aurora_cutover.db import ConnectError, connect
from aurora_cutover.db.sessions import Sessions
from aurora_cutover.evidence.extras import html_facts, html_table
from aurora_cutover.loading import load

MIGRATION = pytest.StashKey[Migration]()
TEST_EVIDENCE = pytest.StashKey["Evidence"]()


class Evidence:
    """Per-test findings: facts and tables go to the JSON evidence and into the HTML report.

        def test_x(evidence):
            evidence.record("server", "mariadb 10.11.19")
            evidence.table("Differing rows", ["pk", "kind"], [[7, "missing on target"]])
    """

    def __init__(self) -> None:
        self.facts: dict[str, Any] = {}
        self.tables: list[dict[str, Any]] = []
        self.images: list[tuple[str, bytes]] = []

    def record(self, key: str, value: Any) -> None:
        self.facts[key] = value

    def table(self, title: str, columns: list[str], rows: list[list[Any]], note: str = "") -> None:
        self.tables.append({"title": title, "columns": columns, "rows": rows, "note": note})

    def image(self, title: str, png: bytes) -> None:
        self.images.append((title, png))

    def pytest_html_extras(self) -> list[Any]:
        from pytest_html import extras

        out = []
        if self.facts:
            out.append(extras.html(html_facts(self.facts)))
        for t in self.tables:
            out.append(extras.html(html_table(t["title"], t["columns"], t["rows"], t["note"])))
        for title, png in self.images:
            out.append(extras.png(base64.b64encode(png).decode(), name=title))
        return out


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    ev = Evidence()
    request.node.stash[TEST_EVIDENCE] = ev
    return ev


@pytest.fixture(scope="session")
def migration(pytestconfig: pytest.Config) -> Migration:
    """The validated config of this session (loaded once in pytest_configure)."""
    m = pytestconfig.stash.get(MIGRATION, None)
    if m is None:
        try:
            m = load(pytestconfig.getoption("migration_config"))
        except ConfigError as exc:
            pytest.fail(f"migration config: {exc}", pytrace=False)
        pytestconfig.stash[MIGRATION] = m
    return m


class Servers:
    """Checker sessions to both sides, opened on first use and shared by the session.

    ``servers.conn("source")`` fails the calling test with one line (which side, why) when the
    server cannot be reached — a check that could not run is red, never skipped.
    """

    def __init__(self, m: Migration) -> None:
        self.m = m
        self._sessions = Sessions()

    def conn(self, side: str) -> Any:
        try:
            return self._sessions.get(side, lambda: connect(self.m, side))  # type: ignore[arg-type]
        except ConnectError as exc:
            pytest.fail(f"cannot connect to {exc}", pytrace=False)

    def close(self) -> None:
        self._sessions.close()


@pytest.fixture(scope="session")
def servers(migration: Migration) -> Any:
    s = Servers(migration)
    yield s
    s.close()


@pytest.fixture(scope="session")
def aws(migration: Migration) -> Any:
    """``aws("route53")`` → a bounded boto3 client for this migration (lab: moto)."""
    from aurora_cutover.aws import client

    return lambda service: client(migration.aws, service)
