"""The chain of readiness evidence a delta stands on: each delta names its baseline evidence (and its sha256),
down to a complete green full pass; every green link keeps its verified state next to it.

    reports/20261201T160000Z-readiness.json            parity: {"mode": "full", "state": "….verified.sqlite", …}
    reports/20261201T161500Z-readiness.json            parity: {"mode": "delta", "baseline": "20261201T160000Z-…",
                                                                 "baseline_sha256": "…", "state": …}

    >>> links = walk(Path("reports"), path, doc, fingerprint=m.fingerprint())   # ChainError: one line, why not
    >>> [link.mode for link in links]
    ['delta', 'full']
    >>> b = latest(Path("reports"), m.fingerprint())   # the newest usable baseline, or a ChainError

A link is usable when its evidence is green, complete, of this config, its JSON has the sha256 the next link
recorded, and its verified state (parity/state.py) loads with the sha256 its own evidence recorded. The gate
(evidence/gate.py) walks the chain of the newest readiness evidence; delta readiness (parity/readiness.py)
starts from the newest usable link. See docs/data-parity.md, "Delta readiness".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aurora_cutover.evidence.record import sha256_file
from aurora_cutover.parity import state

STATE_SUFFIX = ".verified.sqlite"
MAX_LINKS = 10_000  # a chain longer than this is refused (and cycles are)


class ChainError(Exception):
    """The chain cannot be trusted; the message is one line saying which link and why."""


@dataclass(frozen=True)
class Link:
    path: Path  # the evidence JSON
    mode: str  # "full" | "delta"
    baseline: state.Baseline | None  # its verified state (None: a link that kept none, i.e. the newest red one)


def parity_of(doc: dict[str, Any]) -> dict[str, Any]:
    p = doc.get("parity")
    return p if isinstance(p, dict) else {}


def _green(path: Path, doc: dict[str, Any], fingerprint: str) -> None:
    if doc.get("phase") != "readiness":
        raise ChainError(f"{path.name} is not readiness evidence (phase {doc.get('phase')!r})")
    if doc.get("outcome") != "passed":
        raise ChainError(f"{path.name} is red (outcome {doc.get('outcome')!r}: {doc.get('reason', '')})")
    if doc.get("complete") is not True:
        raise ChainError(f"{path.name} covers only part of the suite ({doc.get('partial') or 'scope unknown'})")
    if doc.get("config_fingerprint") != fingerprint:
        raise ChainError(f"{path.name} is for another config (fingerprint "
                         f"{str(doc.get('config_fingerprint'))[:12]}…, this config {fingerprint[:12]}…)")


def _state(path: Path, doc: dict[str, Any], fingerprint: str) -> state.Baseline:
    p = parity_of(doc)
    if not p.get("state") or not p.get("state_sha256"):
        raise ChainError(f"{path.name} kept no verified state")
    try:
        return state.load(path.parent / str(p["state"]), sha256=str(p["state_sha256"]), config_fp=fingerprint,
                          evidence=path.name)
    except state.StateError as exc:
        raise ChainError(f"{path.name}: {exc}") from None


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChainError(f"{path.name} is not readable: {exc}") from None
    if not isinstance(doc, dict):
        raise ChainError(f"{path.name} is not an evidence record")
    return doc


def walk(reports_dir: Path, path: Path, doc: dict[str, Any], *, fingerprint: str) -> list[Link]:
    """The links from ``doc`` (already judged green by the caller, or the one a delta starts from) down to its
    full baseline; ChainError names the first link that is missing, red, tampered or of another config."""
    links: list[Link] = []
    seen: set[str] = set()
    while True:
        p = parity_of(doc)
        mode = str(p.get("mode") or "")
        if mode not in ("full", "delta"):
            raise ChainError(f"{path.name} records no parity mode (evidence older than delta readiness?)")
        kept = _state(path, doc, fingerprint) if p.get("state") or links else None
        links.append(Link(path, mode, kept))
        if mode == "full":
            return links
        name = str(p.get("baseline") or "")
        if not name or name in seen or len(links) >= MAX_LINKS:
            why = "is not named" if not name else f"{name} loops back or the chain is too long"
            raise ChainError(f"{path.name}: its baseline {why}")
        seen.add(name)
        base = reports_dir / name
        if not base.is_file():
            raise ChainError(f"baseline {name} of {path.name} is missing")
        actual = sha256_file(base)
        if actual != p.get("baseline_sha256"):
            raise ChainError(f"baseline {name} of {path.name} was changed: sha256 {actual[:12]}… is not the "
                             f"{str(p.get('baseline_sha256'))[:12]}… the delta recorded")
        path, doc = base, _read(base)
        _green(path, doc, fingerprint)


def latest(reports_dir: Path, fingerprint: str) -> tuple[Path, str, state.Baseline, list[Link]]:
    """The newest green, complete readiness evidence of this config that kept a verified state, with its JSON's
    sha256, its state and its chain; ChainError says why there is none (then readiness runs a full pass)."""
    found: list[tuple[str, Path, dict[str, Any]]] = []
    for p in reports_dir.glob("*.json") if reports_dir.is_dir() else []:
        try:
            doc = _read(p)
        except ChainError:
            continue
        if doc.get("phase") == "readiness" and parity_of(doc).get("state"):
            found.append((str(doc.get("finished_utc") or ""), p, doc))
    first_problem = ""
    for _when, p, doc in sorted(found, key=lambda x: (x[0], x[1].name), reverse=True):
        try:
            _green(p, doc, fingerprint)
            links = walk(reports_dir, p, doc, fingerprint=fingerprint)
        except ChainError as exc:
            first_problem = first_problem or str(exc)
            continue
        assert links[0].baseline is not None
        return p, sha256_file(p), links[0].baseline, links
    raise ChainError(first_problem or f"no green readiness evidence with a verified state in {reports_dir}")
