"""The pytest plugin the product runs through (wired by the root ``conftest.py``): hooks and wiring.

    pytest -m readiness                      # checks/, read-only, must all pass
    pytest -m cutover [--confirm]            # actions/, dry run unless --confirm
    pytest -m rollback [--confirm]

What it adds: the options and markers, one validated :class:`Migration` loaded once, fixtures for
the servers and AWS, action items never selected by accident, and for every product session an
HTML report + JSON evidence under ``reports/`` (see :mod:`aurora_cutover.evidence`).

Split the way pytest-html splits itself: this module holds the hooks and every command-line option
(:func:`pytest_addoption` is the one place options are added); the fixtures live in :mod:`aurora_cutover.fixtures`;
the phase / partial-run rule the gate relies on in :mod:`aurora_cutover.evidence.phase`; recording a session's
evidence in :mod:`aurora_cutover.evidence.session`; the report's first screen in :mod:`.evidence.html_hooks`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from aurora_cutover.config import ConfigError, Migration
from aurora_cutover.evidence import index
from aurora_cutover.evidence import session as recording
from aurora_cutover.evidence.html_hooks import HtmlHooks
from aurora_cutover.evidence.lag_sampler import LagSampler
from aurora_cutover.evidence.phase import ACTIONS, PHASES, partial_because, session_phase
from aurora_cutover.evidence.record import SessionEvidence, new_stem
from aurora_cutover.fixtures import MIGRATION as _MIGRATION
from aurora_cutover.fixtures import TEST_EVIDENCE, Evidence
from aurora_cutover.hooks import Hooks, StatusTicker, is_parity
from aurora_cutover.loading import load

# Fixtures are a plugin of their own (pytest-html: pytest_html.fixtures), registered with this one.
pytest_plugins = ["aurora_cutover.fixtures"]
__all__ = ["ACTIONS", "PHASES", "migration_of", "partial_because", "session_evidence", "session_hooks",
           "session_phase"]

_SESSION = pytest.StashKey[SessionEvidence]()
_HOOKS = pytest.StashKey[Hooks]()
_TICKER = pytest.StashKey[StatusTicker]()
_SAMPLER = pytest.StashKey[LagSampler | None]()
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
    g.addoption("--full", action="store_true", default=False,
                help="readiness: a full parity pass even when a verified baseline would allow a delta")
    g.addoption("--reports-dir", default=None, metavar="DIR",
                help="where reports and evidence go (default: $MIGRATION_REPORTS_DIR or ./reports)")


@pytest.hookimpl(tryfirst=True)  # before pytest-html reads --html
def pytest_configure(config: pytest.Config) -> None:
    for phase in PHASES:
        config.addinivalue_line("markers", f"{phase}: aurora-cutover {phase} item")
    config.addinivalue_line("markers", "replication_method(*names): the check applies only to these methods")
    config.addinivalue_line("markers", "needs_config(*keys, **values): the check applies only when these config "
                                       "keys are set (and hold these values)")
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
    title = f"{'DRY RUN — ' if dry else ''}{phase.capitalize()} — {m.name}"
    ev = SessionEvidence(phase=label, stem=new_stem(reports, label), title=title, fingerprint=m.fingerprint(),
                         config_path=m.path, migration=m.name, confirm=bool(config.getoption("confirm")),
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
    sampler = config.stash[_SAMPLER] = LagSampler(m).start() if phase == "readiness" else None
    config.pluginmanager.register(HtmlHooks(ev, m.thresholds.max_lag_s, sampler), "aurora_cutover.html_hooks")
    hooks = config.stash[_HOOKS] = Hooks.from_config(m, phase=label, report=ev.html_path, evidence=ev.json_path)
    config.stash[_TICKER] = StatusTicker(hooks, m.hooks.status_interval_s, lambda: _status(config),
                                         notify_interval_s=m.notify.status_interval_s).start()
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
        "Migration": m.name, "Phase": ev.phase, "Config": m.path, "Config fingerprint": m.fingerprint(),
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
        unset = [] if m is None else not_configured(item, m)
        if action and action not in words:
            drop.append(item)
        elif method is not None and m is not None and m.replication.method not in method.args:
            # A check of the other replication method does not pass vacuously: it is set aside, and said so.
            drop.append(item)
            if ev is not None:
                ev.session_data.setdefault("not_applicable", []).append(
                    {"nodeid": item.nodeid, "reason": f"replication.method = {m.replication.method!r}"})
        elif unset:  # the same rule: a check whose subject is not configured is set aside and listed, never passed
            drop.append(item)
            if ev is not None:
                ev.session_data.setdefault("not_applicable", []).append(
                    {"nodeid": item.nodeid, "reason": ", ".join(unset)})
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def not_configured(item: pytest.Item, m: Migration) -> list[str]:
    """Why the item's subject is not configured: ``needs_config("target.rds_id")`` wants the key set;
    ``needs_config(**{"cutover.fence": "read_only"})`` wants that value in it."""
    out = []
    for mark in item.iter_markers("needs_config"):
        out += [f"{k} is not set" for k in mark.args if not config_value(m, k)]
        out += [f"{k} does not include {v!r}" for k, v in mark.kwargs.items() if v not in config_value(m, k)]
    return out


def config_value(m: Migration, key: str) -> Any:
    """``config_value(m, "target.rds_id")`` -> m.target.rds_id (a dotted config key, as docs/config.md names it)."""
    value: Any = m
    for part in key.split("."):
        value = getattr(value, part)
    return value


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
    data: Evidence | None = item.stash.get(TEST_EVIDENCE, None)
    if data is not None and (report.when == "call" or (report.when == "setup" and report.outcome != "passed")):
        extras = getattr(report, "extras", [])
        report.extras = extras + data.pytest_html_extras()
    if ev is None:
        return
    recording.record_report(ev, item.nodeid, report, data)
    hooks = item.config.stash.get(_HOOKS, None)
    if hooks is not None and report.when == "call" and report.failed and is_parity(item.nodeid):
        t = ev.test(item.nodeid)
        hooks.first_difference(item.nodeid, t.message, t.data.get("table"), **_status(item.config))


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
    for running in (config.stash.get(_TICKER, None), config.stash.get(_SAMPLER, None)):
        if running is not None:
            running.stop()
    if (sampler := config.stash.get(_SAMPLER, None)) is not None:
        ev.session_data["lag_over_session"] = sampler.as_evidence()
    doc = recording.finish(ev, exitstatus)
    hooks = config.stash.get(_HOOKS, None)
    event = SESSION_EVENTS.get((ev.phase, doc["verdict"]))
    if hooks is not None:  # after the JSON exists (a hook may read it); a hook's failure changes no verdict
        hooks.session_end(event, doc["verdict"], doc["reason"])
        hooks.close(deadline_s=3 * config.stash[_MIGRATION].notify.timeout_s)  # queued notifications, bounded
        if hooks.fired or hooks.notifications():
            ev.session_data.update(hooks=hooks.as_evidence(), notifications=hooks.notifications())
            doc = recording.finish(ev, exitstatus)
    print(f"\nevidence: {ev.json_path} ({doc['verdict']}: {doc['reason']})\nreport:   {ev.html_path}")
    print(f"index:    {index.write(ev.json_path.parent)}")
