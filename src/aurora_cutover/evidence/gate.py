"""The cutover gate: is the newest readiness evidence green, complete, fresh, ours and untampered?

Pure apart from reading files, so it is unit-tested with tmp files:

    >>> g = check(Path("reports"), fingerprint=m.fingerprint(), freshness_s=900)
    >>> g.ok, g.reason
    (False, 'readiness evidence is stale: reports/20261125T120000Z-readiness.json finished 1203s ago ...')

A delta (``parity.mode`` "delta") counts only when its chain of baselines (parity/chain.py) leads to a complete
green full pass, each link untampered and of the same config.

Only phase "readiness" counts (never a dry run, never another phase). A refusal names the first
condition that is not met, in one line, so the operator knows what to do (usually: run readiness again).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aurora_cutover.evidence.record import sha256_file, utc_now
from aurora_cutover.parity import chain


@dataclass(frozen=True)
class Gate:
    ok: bool
    reason: str
    path: str = ""  # the evidence JSON relied on (or rejected)
    json_sha256: str = ""  # the hash chain: the cutover evidence records this
    facts: dict[str, Any] = field(default_factory=dict)


def _finished(doc: dict[str, Any]) -> dt.datetime | None:
    return _parse(doc.get("finished_utc") or "")


def _parse(raw: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return None


def newest(reports_dir: Path, phase: str) -> tuple[Path, dict[str, Any]] | None:
    """The newest evidence JSON of exactly this phase (by finish time, then name); unreadable files are skipped."""
    best: tuple[dt.datetime, str, Path, dict[str, Any]] | None = None
    if not reports_dir.is_dir():
        return None
    for p in reports_dir.glob("*.json"):
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or doc.get("phase") != phase:
            continue
        when = _finished(doc) or dt.datetime.min.replace(tzinfo=dt.UTC)
        key = (when, p.name)
        if best is None or key > (best[0], best[1]):
            best = (when, p.name, p, doc)
    return None if best is None else (best[2], best[3])


def check(reports_dir: Path, *, fingerprint: str, freshness_s: float, now: dt.datetime | None = None) -> Gate:
    """Green, complete, fresh, same config, untampered — in that order; the first failure is the reason."""
    now = now or utc_now()
    found = newest(reports_dir, "readiness")
    if found is None:
        return Gate(False, f"no readiness evidence in {reports_dir}: run `pytest -m readiness` first")
    path, doc = found
    name = str(path)
    facts = {"evidence": name, "outcome": doc.get("outcome"), "finished_utc": doc.get("finished_utc"),
             "config_fingerprint": doc.get("config_fingerprint")}
    sha = sha256_file(path)
    if doc.get("outcome") != "passed":
        return Gate(False, f"readiness evidence is red: {name} outcome {doc.get('outcome')!r} "
                           f"({doc.get('reason', 'no reason recorded')})", name, sha, facts)
    if doc.get("complete") is not True:
        return Gate(False, f"readiness evidence covers only part of the suite: {name} ran with "
                           f"{doc.get('partial') or 'no record of its scope'} — run the whole `pytest -m readiness`",
                    name, sha, facts)
    finished = _finished(doc)
    if finished is None:
        return Gate(False, f"readiness evidence has no valid finished_utc: {name}", name, sha, facts)
    age = (now - finished).total_seconds()
    facts["age_s"] = round(age, 1)
    if age > freshness_s or age < -60:  # from the future = a clock or a forgery; refuse too
        return Gate(False, f"readiness evidence is stale: {name} finished {age:.0f}s ago "
                           f"(limit thresholds.evidence_freshness_s = {freshness_s:.0f}s)", name, sha, facts)
    cont = doc.get("continues") if isinstance(doc.get("continues"), dict) else {}
    if cont:
        # a resumed session (--resume) is complete: it ran the whole suite, some tables by carrying over verdicts
        # of the session it continues — which must themselves be fresh
        facts["continues"] = cont.get("session")
        carried = _parse(str(cont.get("oldest_carried_utc") or ""))
        if cont.get("oldest_carried_utc") and carried is None:
            return Gate(False, f"readiness evidence {name} carries over verdicts with no valid time", name, sha, facts)
        if carried is not None and (now - carried).total_seconds() > freshness_s:
            return Gate(False, f"readiness evidence is stale: {name} carries over verdicts of session "
                               f"{cont.get('session')} checked {(now - carried).total_seconds():.0f}s ago "
                               f"(limit thresholds.evidence_freshness_s = {freshness_s:.0f}s)", name, sha, facts)
    if doc.get("config_fingerprint") != fingerprint:
        return Gate(False, f"readiness evidence is for another config: {name} has fingerprint "
                           f"{str(doc.get('config_fingerprint'))[:12]}…, this config is {fingerprint[:12]}…",
                    name, sha, facts)
    html = path.parent / str(doc.get("html") or "")
    recorded = doc.get("html_sha256")
    if not doc.get("html") or not html.is_file():
        return Gate(False, f"readiness evidence is tampered or incomplete: its report {html} is missing",
                    name, sha, facts)
    actual = sha256_file(html)
    if not recorded or actual != recorded:
        return Gate(False, f"readiness evidence is tampered: sha256 of {html.name} is {actual[:12]}…, "
                           f"the evidence recorded {str(recorded)[:12]}…", name, sha, facts)
    resumed = f", continues session {cont.get('session')}" if cont else ""
    chained = ""
    parity = chain.parity_of(doc)
    if parity.get("mode") == "delta":
        try:
            links = chain.walk(path.parent, path, doc, fingerprint=fingerprint)
        except chain.ChainError as exc:
            return Gate(False, f"readiness evidence {path.name} is a delta whose chain does not hold: {exc}",
                        name, sha, facts)
        facts["chain"] = [link.path.name for link in links]
        chained = (f"; delta of {parity.get('chunks_checked')} of {parity.get('chunks_total')} chunks chained to "
                   f"full baseline {links[-1].path.name} over {len(links) - 1} link(s), each green, untampered, "
                   "same config")
    return Gate(True, f"readiness evidence {path.name} is green, {age:.0f}s old{resumed}, same config, untampered"
                + chained, name, sha, facts)


def check_cutover(reports_dir: Path) -> Gate:
    """Rollback needs the cutover evidence: the newest confirmed cutover whose record shows the flip happened.

    A cutover killed mid-run leaves its checkpointed JSON (outcome failed, ``flipped`` true), which counts:
    rolling back a half-done cutover is exactly what the rollback is for.
    """
    found = newest(reports_dir, "cutover")
    if found is None:
        return Gate(False, f"no cutover evidence in {reports_dir}: nothing to roll back (or wrong --reports-dir)")
    path, top = found
    sha = sha256_file(path)
    doc = top.get("cutover") or {}  # the action's record (actions/conftest.py checkpoint)
    if not doc.get("flipped"):
        return Gate(False, f"newest cutover evidence {path} shows no DNS flip (state {doc.get('state')!r}): "
                           "nothing to roll back", str(path), sha)
    return Gate(True, f"cutover evidence {path.name}: flipped, state {doc.get('state')!r}", str(path), sha,
                {"evidence": str(path), "state": doc.get("state"), "run_id": doc.get("run_id")})
