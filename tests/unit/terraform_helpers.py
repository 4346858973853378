"""Small helpers to read Terraform with python-hcl2 and check the invariants of infra/terraform.

python-hcl2 returns blocks as lists of dicts, expressions as ``"${...}"`` strings and (depending on
the version) every attribute value wrapped in a one-element list. :func:`parse` normalises that into
a :class:`Module` whose attribute values are plain Python values, so tests read like the HCL.

The ``*_violations`` functions take a :class:`Module` (parsed from the repo or from an in-memory
snippet) and return human-readable violations; an empty list means the invariant holds.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[2]
TF_DIR = REPO / "infra" / "terraform"

OPEN_CIDRS = {"0.0.0.0/0", "::/0"}

# Read-only API prefixes that may legitimately need resources = ["*"].
READ_ONLY_PREFIXES = ("Describe", "List", "Get")

_TEMPLATE_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


# --------------------------------------------------------------------------- parsing


def _load(text: str) -> dict[str, Any]:
    return hcl2.load(io.StringIO(text))


def _detect_wrapping() -> bool:
    """True when this python-hcl2 version wraps attribute values in a one-element list."""
    return _load('a = "x"\n')["a"] == ["x"]


_WRAPPED = _detect_wrapping()


def _strip_quotes(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _norm_value(value: Any) -> Any:
    """An attribute's value: unwrapped once, dicts/lists normalised recursively."""
    if isinstance(value, dict):
        return {_strip_quotes(k): _norm_value(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_norm_value(v) for v in value]
    return _strip_quotes(value)


def _is_block_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _is_block_body(value: dict[str, Any]) -> bool:
    """In wrapped mode every attribute inside a block body is a list; a map's values are not."""
    return all(isinstance(v, list) or k.startswith("__") for k, v in value.items())


def _norm_body(body: dict[str, Any]) -> dict[str, Any]:
    """A block body: nested blocks stay lists of bodies, attributes become plain values."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key.startswith("__"):  # __start_line__ / __end_line__ metadata
            continue
        if key == "dynamic" and isinstance(value, list):  # dynamic "label" { ... }: keep the label
            out[key] = [{label: _norm_body(b) for label, b in item.items()} for item in value]
        elif _WRAPPED:
            if _is_block_list(value) and all(_is_block_body(v) for v in value):
                out[key] = [_norm_body(v) for v in value]
            elif isinstance(value, list) and len(value) == 1:
                out[key] = _norm_value(value[0])
            else:
                out[key] = _norm_value(value)
        elif _is_block_list(value):
            out[key] = [_norm_body(v) for v in value]
        else:
            out[key] = _norm_value(value)
    return out


@dataclass
class Module:
    """One Terraform root module, keyed the way HCL addresses things."""

    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    ephemeral: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # file name -> raw text

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        try:
            return self.resources[(rtype, name)]
        except KeyError:
            raise AssertionError(f"resource {rtype}.{name} is not defined") from None

    def of_type(self, rtype: str) -> dict[str, dict[str, Any]]:
        return {n: b for (t, n), b in self.resources.items() if t == rtype}

    def text(self) -> str:
        return "\n".join(self.texts.values())


def _add_two_label(target: dict[tuple[str, str], dict[str, Any]], entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        for rtype, named in entry.items():
            for name, body in named.items():
                target[(_strip_quotes(rtype), _strip_quotes(name))] = _norm_body(body)


def parse_texts(texts: dict[str, str]) -> Module:
    """Parse {file name: HCL text} into one Module (raises on a syntax error)."""
    m = Module(texts=dict(texts))
    for fname, text in texts.items():
        try:
            doc = _load(text)
        except Exception as exc:  # python-hcl2 raises lark errors of several types
            raise AssertionError(f"{fname}: not parseable HCL: {exc}") from exc
        _add_two_label(m.resources, doc.get("resource", []))
        _add_two_label(m.data, doc.get("data", []))
        _add_two_label(m.ephemeral, doc.get("ephemeral", []))
        for entry in doc.get("variable", []):
            for name, body in entry.items():
                m.variables[_strip_quotes(name)] = _norm_body(body)
        for entry in doc.get("output", []):
            for name, body in entry.items():
                m.outputs[_strip_quotes(name)] = _norm_body(body)
        for entry in doc.get("locals", []):
            m.locals.update(_norm_body(entry))
        m.terraform.extend(_norm_body(b) for b in doc.get("terraform", []))
    return m


def parse_text(text: str, name: str = "snippet.tf") -> Module:
    return parse_texts({name: text})


def parse_dir(path: Path = TF_DIR) -> Module:
    return parse_texts({p.name: p.read_text(encoding="utf-8") for p in sorted(path.glob("*.tf"))})


def parse_tfvars(path: Path) -> dict[str, Any]:
    return _norm_body(_load(path.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- small accessors


def blocks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Nested blocks called ``name`` (empty list when absent)."""
    value = body.get(name, [])
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parameters(body: dict[str, Any]) -> dict[str, str]:
    """``parameter { name = .. value = .. }`` blocks of a (cluster) parameter group as a dict."""
    return {str(p["name"]): str(p["value"]) for p in blocks(body, "parameter")}


def var_default(module: Module, name: str) -> Any:
    var = module.variables.get(name)
    if var is None:
        raise AssertionError(f"variable {name!r} is not declared")
    return var.get("default")


def refs_var(value: Any, name: str) -> bool:
    return isinstance(value, str) and re.search(rf"\bvar\.{re.escape(name)}\b", value) is not None


def template_variables(text: str) -> set[str]:
    return set(_TEMPLATE_VAR.findall(text))


def render_template(text: str, values: dict[str, Any]) -> str:
    """Render a .tftpl that only uses plain ``${name}`` interpolation (as templatefile() would)."""
    leftovers = re.findall(r"[$%]\{(?![A-Za-z_][A-Za-z0-9_]*\})[^}]*\}", text)
    if leftovers:
        raise AssertionError(f"template uses expressions this renderer does not support: {leftovers}")
    missing = template_variables(text) - values.keys()
    if missing:
        raise AssertionError(f"template variables without a value: {sorted(missing)}")
    return _TEMPLATE_VAR.sub(lambda mo: str(values[mo.group(1)]), text)


# --------------------------------------------------------------------------- invariants


def open_ingress_violations(module: Module) -> list[str]:
    """Every ingress path that admits 0.0.0.0/0 or ::/0, or SSH (22) from anywhere."""
    problems: list[str] = []

    def check_cidrs(where: str, cidrs: Any) -> None:
        for cidr in as_list(cidrs):
            if cidr in OPEN_CIDRS:
                problems.append(f"{where}: ingress from {cidr}")

    def check_ssh(where: str, body: dict[str, Any]) -> None:
        lo, hi = body.get("from_port"), body.get("to_port")
        if isinstance(lo, int) and isinstance(hi, int) and lo <= 22 <= hi and str(body.get("ip_protocol",
                                                                                       body.get("protocol"))) != "icmp":
            problems.append(f"{where}: SSH (22) ingress; use SSM Session Manager")

    for name, body in module.of_type("aws_security_group").items():
        for i, rule in enumerate(blocks(body, "ingress")):
            where = f"aws_security_group.{name}.ingress[{i}]"
            check_cidrs(where, rule.get("cidr_blocks"))
            check_cidrs(where, rule.get("ipv6_cidr_blocks"))
            check_ssh(where, rule)
    for name, body in module.of_type("aws_security_group_rule").items():
        if body.get("type") == "ingress":
            where = f"aws_security_group_rule.{name}"
            check_cidrs(where, body.get("cidr_blocks"))
            check_cidrs(where, body.get("ipv6_cidr_blocks"))
            check_ssh(where, body)
    for name, body in module.of_type("aws_vpc_security_group_ingress_rule").items():
        where = f"aws_vpc_security_group_ingress_rule.{name}"
        check_cidrs(where, body.get("cidr_ipv4"))
        check_cidrs(where, body.get("cidr_ipv6"))
        check_ssh(where, body)
    for name, body in module.of_type("aws_network_acl_rule").items():
        if not body.get("egress", False) and body.get("rule_action") == "allow":
            where = f"aws_network_acl_rule.{name}"
            check_cidrs(where, body.get("cidr_block"))
            check_cidrs(where, body.get("ipv6_cidr_block"))
    return problems


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    stmts = list(blocks(doc, "statement"))
    for dyn in blocks(doc, "dynamic"):
        stmts.extend(c for label, b in dyn.items() if label == "statement" for c in blocks(b, "content"))
    return stmts


def iam_statements(module: Module, exempt: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    """(address, statement) for every aws_iam_policy_document statement, minus exempt documents."""
    out = []
    for name, doc in sorted((n, d) for (t, n), d in module.data.items() if t == "aws_iam_policy_document"):
        if name in exempt:
            continue
        for i, stmt in enumerate(_statements(doc)):
            out.append((f"data.aws_iam_policy_document.{name}.statement[{stmt.get('sid', i)}]", stmt))
    return out


def iam_wildcard_violations(module: Module, exempt: tuple[str, ...] = ()) -> list[str]:
    """Wildcard actions anywhere, and resources = "*" for anything but read-only calls."""
    problems: list[str] = []
    for where, stmt in iam_statements(module, exempt):
        actions = [str(a) for a in as_list(stmt.get("actions"))]
        if stmt.get("not_actions") or stmt.get("not_resources"):
            problems.append(f"{where}: not_actions/not_resources are not allowed")
        for action in actions:
            if "*" in action:
                problems.append(f"{where}: wildcard action {action!r}")
        if "*" in [str(r) for r in as_list(stmt.get("resources"))]:
            writes = [a for a in actions if not a.split(":", 1)[-1].startswith(READ_ONLY_PREFIXES)]
            if writes:
                problems.append(f"{where}: resources = \"*\" with non-read actions {writes}")
    # Policies written as JSON strings bypass the documents above: forbid them.
    for rtype in ("aws_iam_policy", "aws_iam_role_policy"):
        for name, body in module.of_type(rtype).items():
            policy = str(body.get("policy", ""))
            if "aws_iam_policy_document" not in policy:
                problems.append(f"{rtype}.{name}: policy must come from an aws_iam_policy_document")
    return problems


def uncommented_star_resources(text: str) -> list[int]:
    """1-based line numbers of ``resources = ["*"]`` without a ``#`` comment earlier in its statement."""
    lines = text.splitlines()
    bad = []
    for idx, line in enumerate(lines):
        if re.match(r'\s*resources\s*=\s*\[\s*"\*"\s*\]', line):
            j = idx - 1
            commented = False
            while j >= 0 and not re.match(r"\s*(statement|content)\s*\{", lines[j]):
                if lines[j].lstrip().startswith("#"):
                    commented = True
                    break
                j -= 1
            if not commented:
                bad.append(idx + 1)
    return bad


def unencrypted_violations(module: Module) -> list[str]:
    """Databases, DMS, secrets and log groups must be encrypted with the migration key; DBs protected."""
    problems: list[str] = []
    for rtype in ("aws_db_instance", "aws_rds_cluster"):
        for name, body in module.of_type(rtype).items():
            where = f"{rtype}.{name}"
            if body.get("storage_encrypted") is not True:
                problems.append(f"{where}: storage_encrypted must be true")
            if not body.get("kms_key_id"):
                problems.append(f"{where}: kms_key_id (customer-managed key) missing")
            if body.get("deletion_protection") is not True:
                problems.append(f"{where}: deletion_protection must be true")
            if body.get("manage_master_user_password") is not True:
                problems.append(f"{where}: master password must be managed in Secrets Manager")
            for key in ("password", "master_password"):
                if key in body:
                    problems.append(f"{where}: plaintext {key} is not allowed")
            if body.get("skip_final_snapshot") is not False:
                problems.append(f"{where}: skip_final_snapshot must be false")
    for name, body in module.of_type("aws_dms_replication_instance").items():
        if not body.get("kms_key_arn"):
            problems.append(f"aws_dms_replication_instance.{name}: kms_key_arn missing")
    for name, body in module.of_type("aws_secretsmanager_secret").items():
        if not body.get("kms_key_id"):
            problems.append(f"aws_secretsmanager_secret.{name}: kms_key_id missing")
    for name, body in module.of_type("aws_cloudwatch_log_group").items():
        if not body.get("kms_key_id"):
            problems.append(f"aws_cloudwatch_log_group.{name}: kms_key_id missing")
        if not body.get("retention_in_days"):
            problems.append(f"aws_cloudwatch_log_group.{name}: retention_in_days missing")
    for name, body in module.of_type("aws_kms_key").items():
        if body.get("enable_key_rotation") is not True:
            problems.append(f"aws_kms_key.{name}: enable_key_rotation must be true")
    return problems


def dms_endpoint_violations(module: Module) -> list[str]:
    """DMS endpoints take credentials from Secrets Manager and never run without TLS."""
    problems: list[str] = []
    for name, body in module.of_type("aws_dms_endpoint").items():
        where = f"aws_dms_endpoint.{name}"
        for key in ("password", "username"):
            if key in body:
                problems.append(f"{where}: {key} must come from Secrets Manager, not Terraform")
        for key in ("secrets_manager_arn", "secrets_manager_access_role_arn"):
            if not body.get(key):
                problems.append(f"{where}: {key} missing")
        if str(body.get("ssl_mode", "none")) == "none":
            problems.append(f"{where}: ssl_mode must not be none")
    return problems


def lob_settings_violations(settings: dict[str, Any]) -> list[str]:
    """LOB handling that could truncate silently."""
    meta = settings.get("TargetMetadata", {})
    if not meta.get("SupportLobs", True):
        return ["TargetMetadata.SupportLobs=false drops LOB columns"]
    if meta.get("FullLobMode") is True and meta.get("LimitedSizeLobMode") is not True:
        return []
    if meta.get("LimitedSizeLobMode") is True and meta.get("FailTasksOnLobTruncation") is True:
        return []
    return ["LOB mode may truncate silently: use FullLobMode, or LimitedSizeLobMode with FailTasksOnLobTruncation"]
