"""The rehearsal's HTML page: figures, links to each session's report, and the write timeline.

The timeline is successful writes per second per server, with the fence, flip and verify marks of
each switch — drawn with matplotlib and embedded, so the page is self-contained like the others.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from typing import Any

from aurora_cutover.evidence.extras import Raw, html_table
from aurora_cutover.rehearsal.verify import Switch


def timeline_png(records: list[dict[str, Any]], switches: list[Switch]) -> bytes | None:
    writes = [r for r in records if r.get("op") in ("insert", "update", "delete")]
    if not writes:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = min(r["t0"] for r in writes)
    fig, ax = plt.subplots(figsize=(10, 3.2), dpi=100)
    for sid in sorted({r["server_id"] for r in writes if r.get("ok")}):
        per_s = Counter(int(r["t1"] - t0) for r in writes if r.get("ok") and r["server_id"] == sid)
        xs = list(range(0, max(per_s) + 1))
        ax.step(xs, [per_s.get(x, 0) for x in xs], where="post", label=f"server_id {sid}")
    failed = Counter(int(r["t1"] - t0) for r in writes if not r.get("ok"))
    if failed:
        xs = sorted(failed)
        ax.bar(xs, [failed[x] for x in xs], width=0.8, color="#d62728", alpha=0.4, label="failed attempts")
    for s in switches:
        for t, style, label in ((s.fence_t, ":", "fence"), (s.flip_t, "--", "flip"), (s.verified_t, "-", "verify")):
            ax.axvline(t - t0, linestyle=style, color="black", linewidth=0.8)
            ax.text(t - t0, ax.get_ylim()[1] * 0.95, f"{s.name} {label}", rotation=90, fontsize=7, va="top")
    ax.set_xlabel("seconds since workload start")
    ax.set_ylabel("writes / s")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def render_html(doc: dict[str, Any], records: list[dict[str, Any]], switches: list[Switch]) -> str:
    e = html.escape
    title = f"Rehearsal — {doc['outcome'].upper()}"
    parts = [f"<!doctype html><meta charset='utf-8'><title>{e(title)}</title>",
             "<body style='font-family:sans-serif;max-width:1100px;margin:20px auto'>",
             f"<h1 style='color:{'#2a7' if doc['outcome'] == 'passed' else '#c33'}'>{e(title)}</h1>",
             f"<p>{e(doc['started_utc'])} → {e(doc['finished_utc'])}, config {e(str(doc['config']))}</p>"]
    rows = [[p["name"], p["outcome"], f"{p['ended'] - p['started']:.1f}s",
             Raw(f"<a href='{e(p['evidence'].replace('.json', '.html'))}'>{e(p['evidence'])}</a>")
             if p["evidence"] else "",
             p["reason"]] for p in doc["phases"]]
    parts.append(html_table("Sessions", ["phase", "outcome", "time", "report", "reason"], rows))
    if "error" in doc:
        parts.append(f"<p style='color:#c33'>{e(doc['error'])}</p>")
    else:
        figures = [["lost writes", doc["lost_writes"], "0"], ["split-brain writes", doc["split_brain_writes"], "0"],
                   ["writes acknowledged / attempted", f"{doc['writes_acknowledged']} / {doc['writes_attempted']}", ""],
                   ["final primary", doc["final_primary"], ""]]
        for name, a in doc["switches"].items():
            figures += [[f"{name}: max write gap (s)", a["max_write_gap_s"], f"≤ {a['target_max_write_gap_s']}"],
                        [f"{name}: failed attempts", a["failed_writes"], ""],
                        [f"{name}: fence → first write on new primary (s)",
                         a["fence_to_first_write_on_new_primary_s"], ""],
                        [f"{name}: latency ms p50/p99 before · during · after",
                         " · ".join(f"{a['latency'][k]['p50_ms']}/{a['latency'][k]['p99_ms']}"
                                    for k in ("before", "during", "after")), ""]]
        parts.append(html_table("Figures", ["figure", "value", "target"], figures))
        png = timeline_png(records, switches)
        if png:
            parts.append("<h3>Successful writes per second, per server</h3>"
                         f"<img alt='timeline' src='data:image/png;base64,{base64.b64encode(png).decode()}'>")
        for key, label in (("lost_write_sample", "Lost writes (sample)"),
                           ("split_brain_sample", "Split-brain writes (sample)")):
            if doc.get(key):
                cols = list(doc[key][0].keys())
                parts.append(html_table(label, cols, [[r.get(c) for c in cols] for r in doc[key]]))
    parts.append(f"<details><summary>raw</summary><pre>{e(json.dumps(doc, indent=2, default=str))}</pre></details>")
    return "\n".join(parts)
