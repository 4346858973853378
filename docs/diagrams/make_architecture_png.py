"""Render docs/architecture.png: the product flow, the AWS production resources and the local lab.

    python docs/diagrams/make_architecture_png.py            # writes docs/architecture.png
    python docs/diagrams/make_architecture_png.py --dot      # print the DOT source instead

Needs Graphviz's ``dot`` (Debian: ``apt-get install -y graphviz``). The diagram is plain DOT text,
so no Python binding is required; the resource names match infra/terraform.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
OUT = DOCS / "architecture.png"

AWS_ORANGE = "#fff3e0"
LAB_BLUE = "#e3f2fd"
PRODUCT_GREEN = "#e8f5e9"


def node(name: str, label: str, **attrs: str) -> str:
    extra = "".join(f', {k}="{v}"' for k, v in attrs.items())
    return f'  {name} [label="{label}"{extra}];'


def dot_source() -> str:
    lines = [
        "digraph architecture {",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=14, nodesep=0.4, ranksep=0.45, '
        'compound=true, newrank=true, labelloc=t, label="aurora-cutover: RDS MySQL 5.7 -> Aurora MySQL 8.0, '
        'zero downtime", pad=0.3];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, fillcolor=white];',
        '  edge [fontname="Helvetica", fontsize=9];',
        "",
        # ------------------------------------------------------------------ product flow
        "  subgraph cluster_product {",
        f'    label="Product (pytest suite)"; style="rounded,filled"; fillcolor="{PRODUCT_GREEN}";',
        node("toml", "migration.toml\\n(terraform output\\nmigration_toml)", shape="note"),
        node("config", "config\\n(validated, frozen)"),
        node("probes", "probes\\nboth servers, AWS, DNS"),
        node("verdicts", "verdicts\\npytest -m readiness"),
        node("evidence", "evidence\\nreports/ HTML + JSON\\n(hash-chained)", shape="folder"),
        node("gate", "gate\\nall readiness green\\n+ fresh evidence", shape="diamond"),
        node("cutover", "pytest -m cutover --confirm\\nfence -> drain -> flip -> verify\\n(each step has an undo)"),
        node("rollback", "pytest -m rollback --confirm\\nfence target -> reverse path\\n-> flip back -> verify"),
        "    toml -> config -> probes -> verdicts -> evidence -> gate;",
        '    gate -> cutover [label="open"];',
        '    cutover -> rollback [style=dashed, label="if verify fails\\nor later"];',
        "  }",
        "",
        # ------------------------------------------------------------------ AWS
        "  subgraph cluster_aws {",
        f'    label="AWS production (infra/terraform)"; style="rounded,filled"; fillcolor="{AWS_ORANGE}";',
        "    subgraph cluster_vpc {",
        '      label="VPC, private subnets in 2 AZs (no ingress from 0.0.0.0/0)"; style="rounded,dashed";',
        node("app", "application\\n(app SG)"),
        node("operator", "operator host\\nSSM Session Manager\\nleast-privilege role"),
        node("r53", "Route 53 private zone eduphoria.ex\\nCNAME db.eduphoria.ex (TTL 30)\\n"
             "ignore_changes = [records]", shape="cds"),
        node("rds", "RDS MySQL 5.7 (source)\\nbinlog ROW/FULL, backups on\\nparameter group = fence",
             shape="cylinder"),
        node("dms", "DMS replication instance\\nforward: full-load-and-cdc\\n+ validation, DO_NOTHING"),
        node("aurora", "Aurora MySQL 8.0 (target)\\nwriter + reader\\nbinlog ON (reverse path)", shape="cylinder"),
        node("dmsrev", "DMS reverse task\\nAurora -> RDS, cdc\\n(optional, rollback)", style="rounded,dashed"),
        "    }",
        node("secrets", "Secrets Manager\\nmaster (RDS-managed),\\nchecker, DMS users", shape="component"),
        node("cw", "CloudWatch\\nmetrics + logs", shape="component"),
        "  }",
        "",
        '  app -> r53 [label="resolves"];',
        '  r53 -> rds [label="before flip"];',
        '  r53 -> aurora [style=dashed, label="after flip"];',
        '  rds -> dms [label="binlog CDC"];',
        '  dms -> aurora [label="rows"];',
        "  aurora -> dmsrev [style=dashed];",
        '  dmsrev -> rds [style=dashed, label="rollback"];',
        "  dms -> secrets [style=dotted, arrowhead=none];",
        "",
        # ------------------------------------------------------------------ lab
        "  subgraph cluster_lab {",
        f'    label="Local lab (make lab-up)"; style="rounded,filled"; fillcolor="{LAB_BLUE}";',
        node("labsrc", "MariaDB 127.0.0.2:3306\\nplays RDS MySQL 5.7", shape="cylinder"),
        node("labtgt", "MariaDB 127.0.0.3:3306\\nplays Aurora MySQL 8.0", shape="cylinder"),
        node("moto", "moto server 127.0.0.1:4566\\nRoute 53, RDS, Secrets Manager"),
        node("labdns", "DNS server 127.0.0.1:10053\\nanswers from the emulated zone"),
        '    labsrc -> labtgt [label="native binlog\\nreplication"];',
        '    moto -> labdns [label="zone"];',
        "  }",
        "",
        # ------------------------------------------------------------------ who talks to what
        "  edge [constraint=false];",
        '  probes -> operator [label="runs on / as", style=bold];',
        '  cutover -> r53 [label="flip (UPSERT)", color="#c62828", fontcolor="#c62828"];',
        '  cutover -> rds [label="fence (read_only)", color="#c62828", fontcolor="#c62828"];',
        '  probes -> secrets [style=dotted, label="credentials"];',
        '  probes -> cw [style=dotted, label="lag, metrics"];',
        '  probes -> labsrc [style=dashed, color="#1565c0", fontcolor="#1565c0", '
        'label="same suite,\\nlab config"];',
        "}",
    ]
    return "\n".join(lines) + "\n"


def render(dot_text: str, out: Path) -> None:
    dot = shutil.which("dot")
    if dot is not None:
        subprocess.run([dot, "-Tpng", "-Gdpi=110", "-o", str(out)], input=dot_text.encode(), check=True)
        return
    try:
        import graphviz  # type: ignore[import-not-found]  # optional binding; still needs dot
    except ImportError:
        sys.exit("Graphviz 'dot' not found: apt-get install -y graphviz")
    graphviz.Source(dot_text).render(outfile=str(out), format="png", cleanup=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", action="store_true", help="print the DOT source and exit")
    parser.add_argument("-o", "--output", type=Path, default=OUT, help=f"PNG path (default {OUT})")
    args = parser.parse_args(argv)
    source = dot_source()
    if args.dot:
        sys.stdout.write(source)
        return 0
    render(source, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
