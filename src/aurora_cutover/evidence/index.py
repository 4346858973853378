"""One index of every session in a reports directory, and the verifier of its hashes and chain links.

    >>> write(Path("reports"))          # reports/index.html + index.sha256, after every session
    >>> verify(Path("reports"))         # [] when every hash and link holds, else one line per broken one

A chain link is the ``relied_on`` of an action's evidence (a cutover → its readiness JSON, a rollback → its
cutover JSON): the file is found by name in the same directory (a ticket carries the folder, not our paths),
and its sha256 must still be the one recorded when the action relied on it. index.sha256 (``sha256sum -c``
format) holds the hash of every evidence JSON as it was when the index was written, so a changed JSON is caught
even if nothing relies on it. (Not ``*.json``: readers of ``reports/*.json`` see sessions only.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aurora_cutover.evidence.record import sha256_file

INDEX_HTML = "index.html"
INDEX_SUMS = "index.sha256"


@dataclass(frozen=True)
class Entry:
    json_name: str
    json_sha256: str
    phase: str
    verdict: str
    started_utc: str
    finished_utc: str
    migration: str
    config_fingerprint: str
    html_name: str
    html_sha256: str | None
    relied_on_phase: str = ""
    relied_on: str = ""  # file name of the evidence JSON relied on
    relied_on_sha256: str = ""


def _entry(path: Path, doc: dict[str, Any]) -> Entry:
    relied = doc.get("relied_on") if isinstance(doc.get("relied_on"), dict) else {}
    verdict = doc.get("verdict") or str(doc.get("outcome") or "?").upper()  # rehearsal records have no verdict
    cfg = doc.get("config")
    return Entry(
        json_name=path.name, json_sha256=sha256_file(path), phase=str(doc.get("phase")), verdict=str(verdict),
        started_utc=str(doc.get("started_utc") or ""), finished_utc=str(doc.get("finished_utc") or ""),
        migration=str(doc.get("migration") or (cfg if isinstance(cfg, str) else "")),
        config_fingerprint=str(doc.get("config_fingerprint") or ""), html_name=str(doc.get("html") or ""),
        html_sha256=doc.get("html_sha256"), relied_on_phase=str(relied.get("phase") or ""),
        relied_on=Path(str(relied.get("path") or "")).name, relied_on_sha256=str(relied.get("sha256") or ""))


def _evidence_files(reports_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for p in sorted(reports_dir.glob("*.json")):
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("phase") and doc.get("started_utc"):
            out.append((p, doc))
    return out


def scan(reports_dir: Path) -> list[Entry]:
    """Every session's entry, newest first (by start, then name)."""
    entries = [_entry(p, d) for p, d in _evidence_files(reports_dir)]
    return sorted(entries, key=lambda e: (e.started_utc, e.json_name), reverse=True)


def write(reports_dir: Path) -> Path:
    from aurora_cutover.evidence.render import index_page

    entries = scan(reports_dir)
    sums = "".join(f"{e.json_sha256}  {e.json_name}\n" for e in entries)
    for name, text in ((INDEX_SUMS, sums), (INDEX_HTML, index_page(entries))):
        tmp = reports_dir / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(reports_dir / name)  # atomic: two sessions finishing together never leave half an index
    return reports_dir / INDEX_HTML


def verify(reports_dir: Path) -> list[str]:
    """One line per broken hash or link, in index order (newest first); [] when everything holds."""
    if not reports_dir.is_dir():
        return [f"{reports_dir}: not a directory"]
    problems: list[str] = []
    indexed: dict[str, str] = {}
    sums = reports_dir / INDEX_SUMS
    if sums.is_file():
        for n, line in enumerate(sums.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            digest, sep, name = line.partition("  ")
            if not sep or len(digest) != 64:
                problems.append(f"{sums}:{n}: not a sha256sum line")
            else:
                indexed[name] = digest
    present = {p.name: d for p, d in _evidence_files(reports_dir)}
    for name in indexed:
        if name not in present:
            problems.append(f"{reports_dir / name}: listed in {INDEX_SUMS} but missing or unreadable")
    for e in scan(reports_dir):
        where = reports_dir / e.json_name
        if e.json_name in indexed and indexed[e.json_name] != e.json_sha256:
            problems.append(f"{where}: sha256 is {e.json_sha256[:12]}…, {INDEX_SUMS} recorded "
                            f"{indexed[e.json_name][:12]}… (the evidence changed after the index was written)")
        if e.html_name:
            html = reports_dir / e.html_name
            if not html.is_file():
                problems.append(f"{where}: its report {e.html_name} is missing")
            elif e.html_sha256 and sha256_file(html) != e.html_sha256:
                problems.append(f"{html}: sha256 is {sha256_file(html)[:12]}…, {e.json_name} recorded "
                                f"{e.html_sha256[:12]}…")
            elif not e.html_sha256:
                problems.append(f"{where}: records no sha256 for its report {e.html_name}")
        if e.relied_on:
            dep = reports_dir / e.relied_on
            if not dep.is_file():
                problems.append(f"{where}: relied on {e.relied_on}, which is missing")
            elif e.relied_on_sha256 and sha256_file(dep) != e.relied_on_sha256:
                problems.append(f"{where}: relied on {e.relied_on} with sha256 {e.relied_on_sha256[:12]}…, "
                                f"it is now {sha256_file(dep)[:12]}…")
    return problems
