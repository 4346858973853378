"""Render a test's structured findings as pytest-html extras (readable tables, no scripts).

    >>> html_table("Differing chunks", ["table", "range"], [["students", "1..500"]])
"""

from __future__ import annotations

import html
import json
from typing import Any


class Raw(str):
    """A cell that is already HTML (e.g. a link the report itself builds); never used for server data."""


def _cell(v: Any) -> str:
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, dict | list):
        v = json.dumps(v, default=str, ensure_ascii=False)
    return html.escape("" if v is None else str(v))


def html_table(title: str, columns: list[str], rows: list[list[Any]], note: str = "") -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{_cell(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 8px;font-family:monospace'>{_cell(v)}</td>" for v in r) + "</tr>"
        for r in rows
    )
    extra = f"<div style='color:#555'>{_cell(note)}</div>" if note else ""
    return (f"<div style='margin:6px 0'><b>{_cell(title)}</b>{extra}"
            f"<table style='border-collapse:collapse;border:1px solid #ccc'><tr>{head}</tr>{body}</table></div>")


def html_facts(facts: dict[str, Any]) -> str:
    return html_table("Recorded", ["fact", "value"], [[k, v] for k, v in facts.items()])
