"""HTML rendering of the first screen and of the reports index (no I/O, no scripts, self-contained).

    >>> verdict_block(v, charts=[("Replication lag", png)])   # into pytest_html_results_summary's prefix
    >>> index_page(entries)                                     # reports/index.html

The block is given to pytest-html through its own summary hook; pytest-html's page is not edited. The style
that comes with it moves pytest-html's Summary (where the block sits) above the Environment table, so the
verdict is the first thing on screen.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aurora_cutover.evidence.index import Entry
    from aurora_cutover.evidence.verdict import Verdict

COLOURS = {True: ("#e6f4ea", "#137333"), False: ("#fce8e6", "#a50e0e")}

# Flex order only: the title, the summary (with this block), then pytest-html's Environment and its results.
FIRST_SCREEN_CSS = """<style>
body{display:flex;flex-direction:column}
#title{order:-3} body>p:first-of-type{order:-2} .summary{order:-1}
.verdict{border:2px solid;border-radius:6px;padding:10px 14px;margin:8px 0 14px 0;max-width:1100px}
.verdict h2{margin:0 0 6px 0;font-size:26px} .verdict table{border-collapse:collapse}
.verdict td{padding:1px 10px 1px 0} .verdict .blocks li{margin:2px 0} .verdict img{margin:6px 8px 0 0}
</style>"""


def row_anchor(nodeid: str) -> str:
    """The id put on a test's row (pytest_html_results_table_row) so "what blocks" can link to it."""
    return "check-" + hashlib.sha1(nodeid.encode()).hexdigest()[:12]


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text))


def png_img(title: str, png: bytes, width: int = 480) -> str:
    b64 = base64.b64encode(png).decode()
    return f"<img alt='{_e(title)}' title='{_e(title)}' width='{width}' src='data:image/png;base64,{b64}'/>"


def verdict_block(v: Verdict, charts: list[tuple[str, bytes]] | None = None) -> str:
    bg, fg = COLOURS[v.good]
    figures = "".join(f"<tr><td>{_e(k)}</td><td><b>{_e(val)}</b></td></tr>" for k, val in v.figures)
    if v.gate_open_until_utc:
        figures += (f"<tr><td>gate open until</td><td><b>{_e(v.gate_open_until_utc)}</b> "
                    "(thresholds.evidence_freshness_s after this run)</td></tr>")
    blocks = ""
    if v.blocks:
        items = "".join(
            f"<li><a href='#{row_anchor(b.nodeid)}'>{_e(b.text)}</a></li>" if b.nodeid else f"<li>{_e(b.text)}</li>"
            for b in v.blocks)
        blocks = f"<div class='blocks'><b>What blocks</b><ul>{items}</ul></div>"
    pics = "".join(png_img(t, p) for t, p in (charts or []))
    return (f"{FIRST_SCREEN_CSS}<div class='verdict' data-{v.attribute}='{_e(v.value)}' "
            f"style='background:{bg};border-color:{fg}'><h2 style='color:{fg}'>{_e(v.value)}</h2>"
            f"<div>{_e(v.headline)}</div><table>{figures}</table>{blocks}<div>{pics}</div></div>")


def index_page(entries: list[Entry], title: str = "aurora-cutover evidence") -> str:
    """Every session newest first; a chain link names the evidence the session relied on (by file name)."""
    rows = []
    for e in entries:
        good = e.verdict in ("GO", "DONE", "DRY RUN", "PASSED")
        colour = COLOURS[good][1]
        link = lambda name: f"<a href='{_e(name)}'>{_e(name)}</a>" if name else "—"  # noqa: E731
        relied = (f"{_e(e.relied_on_phase)}: {link(e.relied_on)}<br><code>{_e(e.relied_on_sha256[:16])}</code>"
                  if e.relied_on else "—")
        rows.append(
            f"<tr id='{_e(e.json_name)}'><td>{_e(e.phase)}</td>"
            f"<td data-verdict='{_e(e.verdict)}' style='color:{colour};font-weight:bold'>{_e(e.verdict)}</td>"
            f"<td>{_e(e.started_utc)}<br>{_e(e.finished_utc)}</td>"
            f"<td>{_e(e.migration)}<br><code>{_e(e.config_fingerprint[:16])}</code></td>"
            f"<td>{link(e.html_name)}<br><code>{_e((e.html_sha256 or '')[:16])}</code></td>"
            f"<td>{link(e.json_name)}<br><code>{_e(e.json_sha256[:16])}</code></td><td>{relied}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("phase", "verdict", "start / end (UTC)", "config / fingerprint",
                                               "report (sha256)", "evidence (sha256)", "relied on"))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'/>"
            f"<title>{_e(title)}</title><style>body{{font-family:sans-serif}} table{{border-collapse:collapse}}"
            "td,th{border:1px solid #ccc;padding:3px 8px;vertical-align:top;text-align:left} code{font-size:11px}"
            f"</style></head><body><h1>{_e(title)}</h1>"
            "<p>Newest first. Re-check every hash and link: <code>python -m aurora_cutover.evidence verify "
            "reports/</code> or <code>sha256sum -c index.sha256</code>.</p>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table></body></html>")
