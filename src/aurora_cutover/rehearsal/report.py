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


def _series(records: list[dict[str, Any]]) -> dict[str, dict[int, int]]:
    """The workload's journal as {"server_id N": {epoch second: writes}, "failed": {...}} (clients come so)."""
    writes = [r for r in records if r.get("op") in ("insert", "update", "delete")]
    out: dict[str, dict[int, int]] = {}
    for sid in sorted({r["server_id"] for r in writes if r.get("ok")}):
        out[f"server_id {sid}"] = dict(Counter(int(r["t1"]) for r in writes if r.get("ok") and r["server_id"] == sid))
    failed = Counter(int(r["t1"]) for r in writes if not r.get("ok"))
    if failed:
        out["failed"] = dict(failed)
    return out


def timeline_png(records: list[dict[str, Any]], switches: list[Switch],
                 clients: dict[str, Any] | None = None) -> bytes | None:
    """One row per writer (the workload, then each client): successful writes per second per server, failed
    attempts as red bars, and the fence / flip / verify marks of each switch on every row."""
    rows = [("workload", _series(records))]
    for name, c in (clients or {}).items():
        if c.get("timeline"):
            rows.append((name, {k: {int(t): n for t, n in v} for k, v in c["timeline"].items()}))
    rows = [(n, s) for n, s in rows if s]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = min(min(v) for _, s in rows for v in s.values() if v)
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 1.9 * len(rows) + 0.8), dpi=100, sharex=True, squeeze=False)
    colours = {"server_id 1": "#1f77b4", "server_id 2": "#ff7f0e"}
    for ax, (name, series) in zip(axes[:, 0], rows, strict=True):
        for key, per_s in series.items():
            if key == "failed":
                xs = sorted(per_s)
                ax.bar([x - t0 for x in xs], [per_s[x] for x in xs], width=0.8, color="#d62728", alpha=0.4,
                       label="failed attempts")
                continue
            xs = list(range(min(per_s), max(per_s) + 1))
            ax.step([x - t0 for x in xs], [per_s.get(x, 0) for x in xs], where="post", label=key,
                    color=colours.get(key))
        for s in switches:
            for t, style, label in ((s.fence_t, ":", "fence"), (s.flip_t, "--", "flip"),
                                    (s.verified_t, "-", "verify")):
                ax.axvline(t - t0, linestyle=style, color="black", linewidth=0.8)
                if ax is axes[0, 0]:
                    ax.text(t - t0, ax.get_ylim()[1] * 0.95, f"{s.name} {label}", rotation=90, fontsize=7, va="top")
        ax.set_ylabel(f"{name}\nwrites/s", fontsize=8)
        ax.legend(fontsize=7, loc="lower left")
    axes[-1, 0].set_xlabel("seconds since the first write")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _client_row(name: str, c: dict[str, Any]) -> list[Any]:
    gaps = ", ".join(f"{k} {a['max_write_gap_s']}" for k, a in c.get("switches", {}).items())
    target = c.get("gap_target_s") or (f"none (caches DNS {c['caches_dns_s']:g} s)" if c.get("caches_dns_s") else "")
    if c.get("gap_explained"):
        target += "; " + "; ".join(f"{k} {x['why']}" for k, x in c["gap_explained"].items())
    ends = f"server_id {c.get('final_server_id')}" + ("" if c.get("ends_on_final_primary") else " (not final)")
    return [name, c.get("attempts"), c.get("acknowledged"), c.get("errors"), c.get("reconnects"),
            c.get("longest_gap_s"), gaps, target, c.get("lost_writes"), c.get("split_brain_writes"), ends,
            c.get("stale_connection_verdict", c.get("error", "")), "yes" if c.get("targets_met") else "NO"]


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
        clients = doc.get("clients", {})
        if clients:
            cols = ["client", "attempts", "acknowledged", "errors", "reconnects", "longest gap (s)",
                    "gap per switch (s)", "gap target (s)", "lost", "split-brain", "ends on", "pool", "met"]
            parts.append(html_table("Clients (resolving through the OS)", cols,
                                    [_client_row(name, c) for name, c in clients.items()]))
        png = timeline_png(records, switches, clients)
        if png:
            parts.append("<h3>Successful writes per second, per server, per writer</h3>"
                         f"<img alt='timeline' src='data:image/png;base64,{base64.b64encode(png).decode()}'>")
        for key, label in (("lost_write_sample", "Lost writes (sample)"),
                           ("split_brain_sample", "Split-brain writes (sample)")):
            if doc.get(key):
                cols = list(doc[key][0].keys())
                parts.append(html_table(label, cols, [[r.get(c) for c in cols] for r in doc[key]]))
    parts.append(f"<details><summary>raw</summary><pre>{e(json.dumps(doc, indent=2, default=str))}</pre></details>")
    return "\n".join(parts)
