"""docs/config.md names every key config.py accepts, in the section that accepts it."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import typing
from pathlib import Path

from aurora_cutover.config import _NOT_IN_FILE, Migration

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def accepted_keys(cls: type = Migration, prefix: str = "") -> set[tuple[str, str]]:
    """(section, key) of every key the TOML may hold: ("source", "rds_id"), ("replication.reverse_credentials",
    "secret_id"), ... A nested table is a key of its parent too (``reverse_credentials`` in [replication])."""
    out: set[tuple[str, str]] = set()
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in _NOT_IN_FILE:
            continue
        nested = [a for a in (typing.get_args(hints[f.name]) or (hints[f.name],)) if dataclasses.is_dataclass(a)]
        if nested:
            where = f"{prefix}.{f.name}" if prefix else f.name
            if prefix:
                out.add((prefix, f.name))
            out |= accepted_keys(nested[0], where)  # type: ignore[arg-type]
        else:
            out.add((prefix, f.name))
    return out


def documented_keys(text: str) -> dict[str, set[str]]:
    """Section pattern (``source``, ``*.credentials``) -> the backticked keys in the key column of its rows."""
    out: dict[str, set[str]] = {}
    sections: list[str] = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) < 3 or (set(cells[0]) <= {"-"} and cells[0]):
            continue
        if cells[0]:
            sections = re.findall(r"`\[([^\]]+)\]`", cells[0]) or sections
        for sec in sections:
            out.setdefault(sec, set()).update(re.findall(r"`([a-z0-9_]+)`", cells[1]))
    return out


def missing(text: str) -> list[str]:
    doc = documented_keys(text)
    return sorted(f"[{sec}] {key}" for sec, key in accepted_keys()
                  if not any(fnmatch.fnmatchcase(sec, pat) and key in keys for pat, keys in doc.items()))


def test_every_config_key_is_in_docs_config_md():
    gaps = missing(DOC.read_text())
    assert not gaps, f"docs/config.md does not name {len(gaps)} key(s) config.py accepts: " + ", ".join(gaps)


def test_the_doc_check_sees_a_missing_key():
    text = DOC.read_text().replace("`rds_id`", "`rds`")
    assert "[source] rds_id" in missing(text) and "[target] rds_id" in missing(text)
