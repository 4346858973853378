"""The pytest plugin the product runs through (wired by the root ``conftest.py``).

    pytest -m readiness                      # checks/, read-only, must all pass
    pytest -m cutover [--confirm]            # actions/, dry run unless --confirm
    pytest -m rollback [--confirm]

What it adds: the options and markers, one validated :class:`Migration` loaded once, fixtures for
the servers and AWS, action items never selected by accident, and for every product session an
HTML report + JSON evidence under ``reports/`` (see :mod:`aurora_cutover.evidence`).
"""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path
from typing import Any

import pytest

from aurora_cutover.config import ConfigError, Migration, load
from aurora_cutover.db import ConnectError, alive, connect
from aurora_cutover.evidence import index
from aurora_cutover.evidence.extras import html_facts, html_table
from aurora_cutover.evidence.html_hooks import HtmlHooks
from aurora_cutover.evidence.record import SessionEvidence, first_line, new_stem
from aurora_cutover.hooks import Hooks, StatusTicker

PHASES = ("readiness", "cutover", "rollback")
ACTIONS = ("cutover", "rollback")
_SESSION = pytest.StashKey[SessionEvidence]()
_MIGRATION = pytest.StashKey[Migration]()
_TEST_DATA = pytest.StashKey["Evidence"]()
_HOOKS = pytest.StashKey[Hooks]()
_TICKER = pytest.StashKey[StatusTicker]()
_COLLECTED = pytest.StashKey[int]()
_RESUME = pytest.StashKey[Any]()  # parity.checkpoint.Resumable of --resume
# The session's last word per phase → the hook told about it (step events fire from actions/conftest.py).
SESSION_EVENTS = {("readiness", "GO"): "on-readiness-verdict", ("readiness", "NO-GO"): "on-readiness-verdict",
                  ("cutover-dryrun", "DRY RUN"): "on-cutover-armed", ("cutover", "DONE"): "on-cutover",
                  ("rollback", "DONE"): "on-rollback"}


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("aurora-cutover", "MySQL -> Aurora migration")
    g.addoption("--migration-config", default=None, metavar="PATH",
                help="migration TOML (default: $MIGRATION_CONFIG or ./migration.toml)")
    g.addoption("--confirm", action="store_true", default=False,
                help="really run the cutover/rollback; without it an action session is a dry run")
    g.addoption("--accept-data-loss", action="store_true", default=False,
                help="rollback: proceed even though writes on the target cannot be carried back")
    g.addoption("--resume", action="store_true", default=False,
                help="readiness: continue the newest interrupted run's parity checkpoint (green tables carried over)")
    g.addoption("--reports-dir", default=None, metavar="DIR",
                help="where reports and evidence go (default: $MIGRATION_REPORTS_DIR or ./reports)")


def session_phase(config: pytest.Config) -> str | None:
    """Which product phase this session is: from -m, or readiness for a bare `pytest` in the repo."""
    expr = config.option.markexpr or ""
    words = set(expr.replace("(", " ").replace(")", " ").split())
    for phase in ("cutover", "rollback", "readiness"):
        if phase in words:
            return phase
    if not expr and config.args_source != pytest.Config.ArgsSource.ARGS:
        return "readiness"  # bare `pytest`: testpaths = checks, actions; actions are deselected below
    return None


def partial_because(config: pytest.Config, phase: str) -> str:
    """'' when the session runs the phase's whole suite; else what narrowed it. A narrowed readiness run (one check
    re-run after a fix, a -k filter) must never open the cutover gate."""
    why = []
    expr = (config.option.markexpr or "").strip()
    if expr and expr != phase:
        why.append(f"-m {expr!r}")
    if config.option.keyword:
        why.append(f"-k {config.option.keyword!r}")
    for opt, shown in (("deselect", "--deselect"), ("ignore", "--ignore"), ("ignore_glob", "--ignore-glob")):
        if getattr(config.option, opt, None):
            why.append(shown)
    for entry in getattr(config.option, "override_ini", None) or []:  # -o testpaths=one_file.py and the like
        if entry.split("=", 1)[0].strip() in ("testpaths", "python_files", "python_classes", "python_functions",
                                              "norecursedirs", "addopts"):
            why.append(f"-o {entry}")
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        root = config.rootpath.resolve()
        whole = {root, root / "checks", root / "actions"}
        for arg in config.args:
            path = Path(arg.split("::")[0])
            path = (path if path.is_absolute() else Path(config.invocation_params.dir) / path).resolve()
            if "::" in arg or path not in whole:
                why.append(f"path {arg}")
    return ", ".join(why)


@pytest.hookimpl(tryfirst=True)  # before pytest-html reads --html
def pytest_configure(config: pytest.Config) -> None:
    for phase in PHASES:
        config.addinivalue_line("markers", f"{phase}: aurora-cutover {phase} item")
    config.addinivalue_line("markers", "replication_method(*names): the check applies only to these methods")
    phase = session_phase(config)
    if phase is None or getattr(config, "workerinput", None) is not None:
        return
    try:
        m = load(config.getoption("migration_config"))
    except ConfigError as exc:
        raise pytest.UsageError(f"migration config: {exc}") from None
    config.stash[_MIGRATION] = m
    dry = phase in ACTIONS and not config.getoption("confirm")
    reports = Path(config.getoption("reports_dir") or os.environ.get("MIGRATION_REPORTS_DIR")
                   or Path(config.invocation_params.dir) / "reports")
    reports.mkdir(parents=True, exist_ok=True)
    label = f"{phase}-dryrun" if dry else phase
    title = f"{'DRY RUN — ' if dry else ''}{phase.capitalize()} — {m.migration.name}"
    ev = SessionEvidence(phase=label, stem=new_stem(reports, label), title=title, fingerprint=m.fingerprint(),
                         config_path=m.path, migration=m.migration.name, confirm=bool(config.getoption("confirm")),
                         markexpr=config.option.markexpr or "", partial=partial_because(config, phase),
                         freshness_s=m.thresholds.evidence_freshness_s)
    config.stash[_SESSION] = ev
    if phase == "readiness" and config.getoption("resume"):
        from aurora_cutover.parity.checkpoint import CheckpointRefused, resumable
        try:
            config.stash[_RESUME] = resumable(reports, m.fingerprint())
        except (CheckpointRefused, OSError) as exc:
            raise pytest.UsageError(f"--resume: {exc}") from None
        ev.session_data["continues"] = {"session": config.stash[_RESUME].session}
    config.pluginmanager.register(HtmlHooks(ev, m.thresholds.max_lag_s), "aurora_cutover.html_hooks")
    hooks = config.stash[_HOOKS] = Hooks.from_config(m, phase=label, report=ev.html_path, evidence=ev.json_path)
    config.stash[_TICKER] = StatusTicker(hooks, m.hooks.status_interval_s, lambda: _status(config)).start()
    if config.option.tbstyle == "auto":  # an operator reads the failing check and its message, not our source
        config.option.tbstyle = "short"
    if not config.getoption("htmlpath", None):
        config.option.htmlpath = str(ev.html_path)
        config.option.self_contained_html = True


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say so when pytest missed this project's settings: our path options are not known yet when pytest picks
    its rootdir, so `--reports-dir /some/dir` (an existing path, space-separated) is taken for a test path."""
    if session_phase(config) is None or config.inipath is not None:
        return None
    return (f"note: pytest missed this project's settings (rootdir {config.rootpath}; it may write .pytest_cache "
            "there): a space-separated path option looks like a test path to it before our options are known; "
            "write --reports-dir=DIR and --migration-config=PATH with '=', or set MIGRATION_REPORTS_DIR / "
            "MIGRATION_CONFIG")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A product session without explicit paths collects checks/ and actions/ only — never the project's own
    tests/, even when `--migration-config /elsewhere/x.toml` made pytest miss the ini file and its testpaths."""
    if config.args_source == pytest.Config.ArgsSource.ARGS or session_phase(config) is None:
        return None
    try:
        parts = collection_path.relative_to(config.invocation_params.dir).parts
    except ValueError:
        return None
    return True if parts and parts[0] in ("tests", "bench", "infra", "docs", "sql", "src") else None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Put the migration's identity in the report's Environment table (after pytest-metadata fills it)."""
    ev, m = _session(session.config), session.config.stash.get(_MIGRATION, None)
    if ev is None or m is None:
        return
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:
        return
    meta = session.config.stash.get(metadata_key, None)
    if meta is None:
        return
    meta.update({
        "Migration": m.migration.name, "Phase": ev.phase, "Config": m.path, "Config fingerprint": m.fingerprint(),
        "Source": f"{m.source.host}:{m.source.port}/{m.source.database} ({m.source.dns_name})",
        "Target": f"{m.target.host}:{m.target.port}/{m.target.database} ({m.target.dns_name})",
        "Switch": f"{m.dns.record_name} (TTL {m.dns.ttl}s, resolver {m.dns.resolver})",
        "Replication": m.replication.method, "Evidence": ev.json_path.name,
    })
    for noisy in ("Packages", "Platform"):
        meta.pop(noisy, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """An action runs only when its own marker is asked for by name: `pytest` alone never cuts over."""
    words = set((config.option.markexpr or "").replace("(", " ").replace(")", " ").split())
    m = config.stash.get(_MIGRATION, None)
    ev = _session(config)
    keep, drop = [], []
    for item in items:
        action = next((a for a in ACTIONS if item.get_closest_marker(a)), None)
        method = item.get_closest_marker("replication_method")
        if action and action not in words:
            drop.append(item)
        elif method is not None and m is not None and m.replication.method not in method.args:
            # A check of the other replication method does not pass vacuously: it is set aside, and said so.
            drop.append(item)
            if ev is not None:
                ev.session_data.setdefault("not_applicable", []).append(
                    {"nodeid": item.nodeid, "reason": f"replication.method = {m.replication.method!r}"})
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[_COLLECTED] = len(session.items)


def _status(config: pytest.Config) -> dict[str, object]:
    """on-status facts: how far the session is and a rough ETA (mean test time x tests left)."""
    ev = _session(config)
    done = list(ev.tests.values()) if ev is not None else []
    total = config.stash.get(_COLLECTED, 0)
    mean = sum(t.duration_s for t in done) / len(done) if done else 0.0
    return {"tests_done": len(done), "tests_total": total, "failed": sum(t.outcome != "passed" for t in done),
            "eta_s": round(mean * max(total - len(done), 0), 1) if done else ""}


def session_hooks(config: pytest.Config) -> Hooks | None:
    """For action code: the session's hooks (fired at step boundaries through the runner's before:<step>)."""
    return config.stash.get(_HOOKS, None)


def _session(config: pytest.Config | None) -> SessionEvidence | None:
    return None if config is None else config.stash.get(_SESSION, None)


def migration_of(config: pytest.Config) -> Migration | None:
    """The session's Migration when a product phase loaded it (collection-time code uses this)."""
    return config.stash.get(_MIGRATION, None)


def resume_of(config: pytest.Config) -> Any:
    """--resume: the interrupted session's verified parity checkpoint (parity/checkpoint.py), else None."""
    return config.stash.get(_RESUME, None)


def session_evidence(config: pytest.Config) -> SessionEvidence | None:
    """For action code: the running session's evidence (to record plan, steps, relied-on hashes)."""
    return _session(config)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    ev = _session(item.config)
    data: Evidence | None = item.stash.get(_TEST_DATA, None)
    if data is not None and (report.when == "call" or (report.when == "setup" and report.outcome != "passed")):
        extras = getattr(report, "extras", [])
        report.extras = extras + data.pytest_html_extras()
    if ev is None:
        return
    t = ev.test(item.nodeid)
    if report.when == "call" or report.outcome != "passed":
        if report.outcome == "failed":
            t.outcome = "failed" if report.when == "call" else "error"
            t.message = first_line(_message(report))
        elif report.outcome == "skipped" and t.outcome == "passed":
            t.outcome = "skipped"
            t.message = first_line(_message(report))
    t.duration_s = round(t.duration_s + report.duration, 3)
    if data is not None:
        t.data = data.facts | ({"tables": data.tables} if data.tables else {})


def _message(report: pytest.TestReport) -> str:
    lr = report.longrepr
    if lr is None:
        return ""
    if isinstance(lr, tuple):  # skip: (file, line, reason)
        return str(lr[2])
    crash = getattr(lr, "reprcrash", None)
    return crash.message if crash is not None else str(lr)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ev = _session(session.config)
    if ev is not None:
        session.config.stash[_EXIT] = int(exitstatus)


_EXIT = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """After pytest-html has written the HTML: hash it into the JSON evidence."""
    ev = _session(config)
    if ev is None:
        return
    exitstatus = config.stash.get(_EXIT, 1)
    ticker = config.stash.get(_TICKER, None)
    if ticker is not None:
        ticker.stop()
    doc = ev.write(exitstatus)
    hooks = config.stash.get(_HOOKS, None)
    event = SESSION_EVENTS.get((ev.phase, doc["verdict"]))
    if hooks is not None:  # after the JSON exists (a hook may read it); a hook's failure changes no verdict
        if event is not None:
            hooks.fire(event, verdict=doc["verdict"], reason=doc["reason"])
        if hooks.fired:
            ev.session_data["hooks"] = hooks.as_evidence()
            doc = ev.write(exitstatus)
    print(f"\nevidence: {ev.json_path} ({doc['verdict']}: {doc['reason']})\nreport:   {ev.html_path}")
    print(f"index:    {index.write(ev.json_path.parent)}")


# --------------------------------------------------------------------------- fixtures


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
    request.node.stash[_TEST_DATA] = ev
    return ev


@pytest.fixture(scope="session")
def migration(pytestconfig: pytest.Config) -> Migration:
    """The validated config of this session (loaded once in pytest_configure)."""
    m = pytestconfig.stash.get(_MIGRATION, None)
    if m is None:
        try:
            m = load(pytestconfig.getoption("migration_config"))
        except ConfigError as exc:
            pytest.fail(f"migration config: {exc}", pytrace=False)
        pytestconfig.stash[_MIGRATION] = m
    return m


class Servers:
    """Checker sessions to both sides, opened on first use and shared by the session.

    ``servers.conn("source")`` fails the calling test with one line (which side, why) when the
    server cannot be reached — a check that could not run is red, never skipped.
    """

    def __init__(self, m: Migration) -> None:
        self.m = m
        self._conns: dict[str, Any] = {}

    def conn(self, side: str) -> Any:
        c = self._conns.get(side)
        if c is not None:
            if alive(c):
                return c
            self._conns.pop(side, None)
        try:
            c = connect(self.m, side)  # type: ignore[arg-type]
        except ConnectError as exc:
            pytest.fail(f"cannot connect to {exc}", pytrace=False)
        self._conns[side] = c
        return c

    def close(self) -> None:
        for c in self._conns.values():
            with contextlib.suppress(Exception):
                c.close()
        self._conns.clear()


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
