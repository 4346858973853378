"""Load and validate ``migration.toml`` into one frozen :class:`Migration` object.

Every mistake becomes a :class:`ConfigError` whose message is one line naming the key::

    >>> read(Path("migration.toml")).source.port
    3306

The schema *is* the dataclasses below: each field's type hint is the accepted TOML type, a field
without a default is required, and any key not declared is rejected. This module is pure parsing and
validation: secrets are resolved by :mod:`aurora_cutover.secrets` (environment variables or AWS Secrets
Manager) and a session's config is loaded by :func:`aurora_cutover.loading.load`, so a broken credential
stops the session before anything runs; they are held in :class:`Secret`, which never prints its value.

Longer than ~400 lines on purpose: the dataclasses are the schema and stay in one file with the converter that
reads them (parse), the semantic rules between keys, and the writer that is parse's inverse (to_toml).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DEFAULT_CONFIG = "migration.toml"
ENV_CONFIG = "MIGRATION_CONFIG"


class ConfigError(Exception):
    """A one-line, user-facing description of what is wrong with the config."""


class Secret:
    """A string that never shows itself in repr/str, logs, reports or exception messages."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class CredentialSource:
    """Where a login comes from. Exactly one of: env var names, or a Secrets Manager secret id.

    A literal password is deliberately not a key: it would end up in git and in reports.
    """

    user: str = ""
    user_env: str = ""
    password_env: str = ""
    secret_id: str = ""


@dataclass(frozen=True)
class Credentials:
    user: str
    password: Secret
    origin: str  # e.g. "env:MIG_SOURCE_PASSWORD" or "secretsmanager:<id>" — safe to print


@dataclass(frozen=True)
class Endpoint:
    host: str
    database: str
    dns_name: str  # the value the switch CNAME holds while this side is the primary
    port: int = 3306
    tls: Literal["disabled", "preferred", "required", "verify-ca", "verify-identity"] = "preferred"
    ca_file: str = ""
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    # Declared engine, e.g. "mysql-5.7", "aurora-mysql-8.0", "mariadb-10.11": config rules that hold before any
    # server is reached (a native reverse path 8.0 -> 5.7 is refused). Readiness checks it against the server.
    engine: str = ""
    credentials: CredentialSource = field(default_factory=CredentialSource)
    admin_credentials: CredentialSource | None = None
    rds_id: str = ""  # RDS instance or Aurora cluster identifier: AWS-side checks (describe_db_clusters)
    # filled in by load(), never read from the file
    login: Credentials | None = None
    admin_login: Credentials | None = None


@dataclass(frozen=True)
class Replication:
    method: Literal["native", "dms"] = "native"
    dms_task_arn: str = ""
    reverse_dms_task_arn: str = ""
    heartbeat_table: str = "_migration_heartbeat"
    reverse_path: Literal["native", "dms", "none"] = "native"
    reverse_credentials: CredentialSource | None = None  # native reverse path login (lab: secret lab/repl)


@dataclass(frozen=True)
class Dns:
    record_name: str
    ttl: int
    zone_id: str = ""
    zone_name: str = ""  # lab: the emulator invents zone ids, so the zone may be found by name
    resolver: str = "system"  # "system" or "host:port"
    check_hosts: tuple[str, ...] = ("local://",)  # testinfra hosts that must resolve + reach 3306


@dataclass(frozen=True)
class Aws:
    region: str = "us-east-1"
    endpoint_url: str = ""  # the lab's moto server; empty means real AWS


@dataclass(frozen=True)
class Thresholds:
    max_lag_s: float = 5.0
    lag_samples: int = 3
    heartbeat_stale_s: float = 10.0
    max_clock_skew_s: float = 1.0
    checksum_chunk_time_s: float = 0.5
    checksum_max_rechecks: int = 3
    checksum_max_threads_running: int = 50
    checksum_retries: int = 3  # retries of a chunk after 1205/1213/2006/2013 (backoff), then it fails by name
    checksum_parallel: int = 1  # tables checksummed at once (sessions per server each)
    max_row_diffs: int = 1000  # the drill-down stops after this many differing rows: "at least N rows differ"
    progress_interval_s: float = 30.0  # readiness progress lines (first after 5 s) and reports/*.progress.json
    max_transaction_age_s: float = 60.0
    min_binlog_retention_h: float = 24.0
    evidence_freshness_s: float = 900.0
    max_dns_ttl_s: int = 60
    full_sweep_h: float = 24.0  # delta readiness re-reads every clean chunk at least this often (the sweep)


@dataclass(frozen=True)
class Tables:
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()

    def in_scope(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in self.include) and not any(
            fnmatch.fnmatchcase(name, p) for p in self.exclude
        )


@dataclass(frozen=True)
class Cutover:
    fence: tuple[Literal["read_only", "lock_accounts"], ...] = ("read_only", "lock_accounts")
    app_accounts: tuple[str, ...] = ()
    timeout_s: float = 120.0
    drain_timeout_s: float = 30.0
    dns_sync_timeout_s: float = 60.0
    verify_grace_s: float = 5.0
    kill_stragglers: bool = True
    final_checksum: bool = False  # drain: full data-parity pass while fenced (longer outage, strongest proof)
    # drain: the fenced proof. "delta" (the chunks touched since the last readiness pass; counts when its
    # preconditions fail, saying why), "counts" (COUNT(*) per table), "full" (= final_checksum), "none"
    final_verify: str = "delta"
    # RDS/Aurora have no SUPER: read_only changes only through the DB parameter group (source) and the DB
    # cluster parameter group (Aurora target). Empty = self-managed server: SET GLOBAL read_only.
    source_parameter_group: str = ""
    target_parameter_group: str = ""
    read_only_apply_timeout_s: float = 60.0  # RDS applies a dynamic parameter asynchronously
    # Accounts that keep write grants on a fenced server on purpose (the reverse DMS task's login, RDS's own
    # rdsadmin): not locked, not killed, and not counted as a hole in the fence.
    exempt_accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    accept: tuple[str, ...] = ()  # "table.object: reason" differences the operator accepts


@dataclass(frozen=True)
class Settings:
    accept: tuple[str, ...] = ()  # "variable: reason" server-setting differences the operator accepts


@dataclass(frozen=True)
class Application:
    """How the application logs in: used by the cutover's canary write and the rehearsal workload."""

    credentials: CredentialSource | None = None
    login: Credentials | None = None  # filled in by load()


@dataclass(frozen=True)
class LabSettings:
    """Only the local lab reads these (production configs have no [lab] section)."""

    dir: str = ".lab"  # relative to the config file
    parameter_apply_delay_s: float = 2.0  # like RDS applying a dynamic parameter
    route53_propagation_s: float = 3.0  # a change stays PENDING this long (Route 53: tens of seconds)
    dms_state_delay_s: float = 1.5  # a DMS task's state change (stop, start) takes this long (AWS: tens of s)
    # Port 53 of this loopback address also serves the lab DNS, for clients that resolve through the OS
    # (lab/osdns.py); "" = the source address with last octet 153, so side-by-side labs differ.
    os_dns_address: str = ""


@dataclass(frozen=True)
class HookSettings:
    """gh-ost style hooks: executables named after events (aurora_cutover.hooks.EVENTS) in ``dir``."""

    dir: str = ""  # relative to the config file; "" = no hooks
    timeout_s: float = 30.0  # each hook is killed after this long (a failing on-before-* then stops the action)
    status_interval_s: float = 300.0  # on-status during a long session


@dataclass(frozen=True)
class NotifySettings:
    """Notifications (apprise URLs: Slack, Teams, PagerDuty, SNS, e-mail, json://...) on every hook event.

    A URL often carries a token, so it is never a key here: ``urls_env`` names environment variables (each holds
    one or more URLs, whitespace- or comma-separated) and/or ``secret_id`` a Secrets Manager secret whose string
    is ``{"urls": [...]}``. Resolved by :func:`load` into :attr:`Migration.notify_urls` (never printed)."""

    urls_env: tuple[str, ...] = ()
    secret_id: str = ""
    timeout_s: float = 10.0  # each send (connect and read) is bounded by this; no retry
    status_interval_s: float = 3600.0  # on-status during a long session (gh-ost: hourly status to chatops)
    events: tuple[str, ...] = ()  # () = every event (aurora_cutover.hooks.EVENTS)


@dataclass(frozen=True)
class JournalSettings:
    """Where cutover and rollback journal their intent, outside both databases (a fenced RDS source refuses
    even its master user): a DynamoDB table with conditional writes. "" = the lock row on the primary side."""

    table: str = ""
    lease_s: float = 30.0  # a run renews its lease every lease_s / 3; a crashed run's lease runs out after this


@dataclass(frozen=True)
class MigrationInfo:
    name: str


@dataclass(frozen=True)
class Migration:
    migration: MigrationInfo
    source: Endpoint
    target: Endpoint
    dns: Dns
    replication: Replication = field(default_factory=Replication)
    aws: Aws = field(default_factory=Aws)
    thresholds: Thresholds = field(default_factory=Thresholds)
    tables: Tables = field(default_factory=Tables)
    cutover: Cutover = field(default_factory=Cutover)
    schema: Schema = field(default_factory=Schema)
    settings: Settings = field(default_factory=Settings)
    application: Application = field(default_factory=Application)
    lab: LabSettings = field(default_factory=LabSettings)
    hooks: HookSettings = field(default_factory=HookSettings)
    journal: JournalSettings = field(default_factory=JournalSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    path: str = ""  # where it was loaded from; not part of the fingerprint
    notify_urls: tuple[Secret, ...] = ()  # filled in by load() from notify.urls_env / notify.secret_id

    @property
    def name(self) -> str:
        """The migration's name ([migration] name): journal key, DMS task prefix, report titles."""
        return self.migration.name

    def endpoint(self, side: str) -> Endpoint:
        if side not in ("source", "target"):
            raise ValueError(f"side must be 'source' or 'target', not {side!r}")
        return getattr(self, side)

    def fingerprint(self) -> str:
        """sha256 of the config as loaded, without secrets or its path: same migration, same print."""
        public = _public(self)
        public.pop("lab", None)  # where the lab keeps its files is not part of the migration
        public.pop("hooks", None)  # nor who is told about it (the evidence records every hook that ran)
        public.pop("notify", None)
        return hashlib.sha256(json.dumps(public, sort_keys=True).encode()).hexdigest()


_NOT_IN_FILE = {"login", "admin_login", "path", "notify_urls"}


def _public(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _public(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.name not in _NOT_IN_FILE}
    if isinstance(obj, tuple | list):
        return [_public(v) for v in obj]
    return obj


# --------------------------------------------------------------------------- generic validation


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(tp, str(tp))


def _convert(key: str, tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(key, args[0], value)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(f"{key}: must be {_type_name(tp)}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: must be {_type_name(tp)}, got {type(value).__name__}")
        item = typing.get_args(tp)[0]
        return tuple(_convert(f"{key}[{i}]", item, v) for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: must be a table, got {type(value).__name__}")
        return _build(tp, value, key)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: must be a number, got {value!r}")
        return float(value)
    if tp is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{key}: must be an integer, got {value!r}")
    if not isinstance(value, tp):
        raise ConfigError(f"{key}: must be {_type_name(tp)}, got {value!r}")
    return value


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in _NOT_IN_FILE}
    for key in data:
        if key not in fields:
            where = f"{prefix}.{key}" if prefix else key
            raise ConfigError(f"{where}: unknown key (allowed: {', '.join(sorted(fields))})")
    kwargs = {}
    for name, f in fields.items():
        where = f"{prefix}.{name}" if prefix else name
        if name in data:
            kwargs[name] = _convert(where, hints[name], data[name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: missing (required, {_type_name(hints[name])})")
    return cls(**kwargs)


# --------------------------------------------------------------------------- semantic rules


def _check_semantics(m: Migration) -> None:
    for side in ("source", "target"):
        ep: Endpoint = getattr(m, side)
        for key in ("host", "database", "dns_name"):
            if not getattr(ep, key).strip():
                raise ConfigError(f"{side}.{key}: must not be empty")
        if not 0 < ep.port < 65536:
            raise ConfigError(f"{side}.port: must be 1-65535, got {ep.port}")
        if ep.tls in ("verify-ca", "verify-identity") and not ep.ca_file:
            raise ConfigError(f"{side}.ca_file: required when {side}.tls = {ep.tls!r}")
        if ep.connect_timeout_s <= 0 or ep.read_timeout_s <= 0:
            raise ConfigError(f"{side}.connect_timeout_s/read_timeout_s: must be > 0")
        _check_credential_source(f"{side}.credentials", ep.credentials)
        if ep.admin_credentials is not None:
            _check_credential_source(f"{side}.admin_credentials", ep.admin_credentials)
    if m.application.credentials is not None:
        _check_credential_source("application.credentials", m.application.credentials)
    if m.replication.method == "dms" and not m.replication.dms_task_arn:
        raise ConfigError("replication.dms_task_arn: required when replication.method = 'dms'")
    if m.replication.reverse_path == "dms" and not m.replication.reverse_dms_task_arn:
        raise ConfigError("replication.reverse_dms_task_arn: required when replication.reverse_path = 'dms'")
    _check_reverse_engine(m)
    for side in ("source", "target"):  # Aurora refuses SET GLOBAL read_only: only its cluster group can fence it
        eng = engine_version(f"{side}.engine", m.endpoint(side).engine)
        group = m.cutover.source_parameter_group if side == "source" else m.cutover.target_parameter_group
        if eng and eng[0] == "aurora-mysql" and "read_only" in m.cutover.fence and not group:
            raise ConfigError(f"cutover.{side}_parameter_group: required for {m.endpoint(side).engine} with a "
                              "read_only fence (Aurora refuses SET GLOBAL read_only)")
    if m.cutover.read_only_apply_timeout_s <= 0:
        raise ConfigError("cutover.read_only_apply_timeout_s: must be > 0")
    if m.cutover.final_verify not in ("delta", "counts", "full", "none"):
        raise ConfigError(f"cutover.final_verify: must be one of delta, counts, full, none, got "
                          f"{m.cutover.final_verify!r}")
    if m.lab.parameter_apply_delay_s < 0 or m.lab.route53_propagation_s < 0 or m.lab.dms_state_delay_s < 0:
        raise ConfigError("lab.parameter_apply_delay_s/route53_propagation_s/dms_state_delay_s: must be >= 0")
    if m.journal.lease_s < 3:
        raise ConfigError(f"journal.lease_s: must be >= 3 (it is renewed every lease_s / 3), got {m.journal.lease_s:g}")
    if m.hooks.timeout_s <= 0 or m.hooks.status_interval_s <= 0:
        raise ConfigError("hooks.timeout_s/status_interval_s: must be > 0")
    if m.notify.timeout_s <= 0 or m.notify.status_interval_s <= 0:
        raise ConfigError("notify.timeout_s/status_interval_s: must be > 0")
    for name in m.notify.urls_env:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"notify.urls_env: {name!r} is not an environment variable name")
    if m.lab.os_dns_address and (not re.fullmatch(r"127\.\d+\.\d+\.\d+", m.lab.os_dns_address)
                                 or m.lab.os_dns_address in ("127.0.0.1", "127.0.0.53", "127.0.0.54")):
        raise ConfigError(f"lab.os_dns_address: a loopback address nothing else uses (not 127.0.0.1/.53/.54, "
                          f"which the host and systemd-resolved take), got {m.lab.os_dns_address!r}")
    if not m.dns.zone_id and not m.dns.zone_name:
        raise ConfigError("dns.zone_id: missing (or give dns.zone_name)")
    if m.dns.resolver != "system":
        host, _, port = m.dns.resolver.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"dns.resolver: must be 'system' or 'host:port', got {m.dns.resolver!r}")
    if m.dns.ttl < 0:
        raise ConfigError(f"dns.ttl: must be >= 0, got {m.dns.ttl}")
    for f in dataclasses.fields(Thresholds):
        if getattr(m.thresholds, f.name) <= 0:
            raise ConfigError(f"thresholds.{f.name}: must be > 0, got {getattr(m.thresholds, f.name)}")
    if m.source.host == m.target.host and m.source.port == m.target.port:
        raise ConfigError("target.host: source and target are the same server")


_ENGINE = re.compile(r"^(mysql|aurora-mysql|mariadb)-(\d+)\.(\d+)$")


def engine_version(key: str, engine: str) -> tuple[str, tuple[int, int]] | None:
    """ "aurora-mysql-8.0" -> ("aurora-mysql", (8, 0)); "" -> None."""
    if not engine:
        return None
    mt = _ENGINE.match(engine)
    if mt is None:
        raise ConfigError(f"{key}: must look like 'mysql-5.7', 'aurora-mysql-8.0' or 'mariadb-10.11', got {engine!r}")
    return mt.group(1), (int(mt.group(2)), int(mt.group(3)))


def _check_reverse_engine(m: Migration) -> None:
    """MySQL replicates from an older to a newer version only: 8.0 -> 5.7 is not supported, so a native
    reverse path from an 8.0 target to a 5.7 source would break at the first write after cutover."""
    src = engine_version("source.engine", m.source.engine)
    tgt = engine_version("target.engine", m.target.engine)
    if m.replication.reverse_path != "native" or src is None or tgt is None:
        return
    mysqlish = {"mysql", "aurora-mysql"}
    if src[0] in mysqlish and tgt[0] in mysqlish and tgt[1] > src[1]:
        raise ConfigError(f"replication.reverse_path: 'native' from {m.target.engine} back to {m.source.engine} is "
                          "not supported by MySQL (replication never goes to an older version); use 'dms'")


def _check_credential_source(key: str, c: CredentialSource) -> None:
    if c.secret_id and (c.user_env or c.password_env):
        raise ConfigError(f"{key}: give either secret_id or user/user_env + password_env, not both")
    if not c.secret_id:
        if not c.password_env:
            raise ConfigError(f"{key}.password_env: missing (or give {key}.secret_id)")
        if not (c.user or c.user_env):
            raise ConfigError(f"{key}.user: missing (or give {key}.user_env)")


# --------------------------------------------------------------------------- entry points


def parse(text: str, *, path: str = "<string>") -> Migration:
    """Validate TOML text into a Migration without resolving any secret (pure)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    m = _build(Migration, data, "")
    _check_semantics(m)
    return dataclasses.replace(m, path=path)


def read(path: str | Path | None = None, *, env: typing.Mapping[str, str] | None = None) -> Migration:
    """Read and validate the file (``MIGRATION_CONFIG`` or ``migration.toml`` when no path is given); relative
    paths in it are anchored to the file's folder. No secret is resolved and nothing outside the file is
    checked: :func:`aurora_cutover.loading.load` does that. Raises ConfigError, one line."""
    env = os.environ if env is None else env
    p = Path(path or env.get(ENV_CONFIG) or DEFAULT_CONFIG)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config: {exc.strerror or exc}") from None
    m = parse(text, path=str(p))
    lab_dir = m.lab.dir if Path(m.lab.dir).is_absolute() else str((p.parent / m.lab.dir).resolve())
    hooks_dir = m.hooks.dir if not m.hooks.dir or Path(m.hooks.dir).is_absolute() else str(
        (p.parent / m.hooks.dir).resolve())
    return dataclasses.replace(m, source=_anchor(m.source, p.parent), target=_anchor(m.target, p.parent),
                               lab=dataclasses.replace(m.lab, dir=lab_dir),
                               hooks=dataclasses.replace(m.hooks, dir=hooks_dir))


def check_files(m: Migration) -> None:
    """Every file the config names exists and is readable now — one line naming the key and the resolved path
    (not a bare FileNotFoundError at the first connection)."""
    for side in ("source", "target"):
        ca = m.endpoint(side).ca_file
        if not ca:
            continue
        f = Path(ca)
        if not f.is_file():
            raise ConfigError(f"{side}.ca_file: {f}: no such file (relative paths resolve against the config "
                              f"file's folder, {Path(m.path).parent.resolve()})")
        if not os.access(f, os.R_OK):
            raise ConfigError(f"{side}.ca_file: {f}: not readable")


def _anchor(ep: Endpoint, base: Path) -> Endpoint:
    """Relative file paths in the config are relative to the config file, not to the cwd."""
    def fix(v: str) -> str:
        return str((base / v).resolve()) if v and not Path(v).is_absolute() else v
    return dataclasses.replace(ep, ca_file=fix(ep.ca_file))


def to_toml(m: Migration) -> str:
    """The TOML text of ``m`` (the inverse of :func:`parse` for every key the file holds; resolved logins and
    the path are not keys). Tests derive a variant with ``dataclasses.replace`` and write it with this.

    >>> m = parse(to_toml(read("migration.toml")))
    >>> parse(to_toml(m)) == m
    True
    """
    lines: list[str] = []
    _emit(m, "", lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {type(v).__name__}")


def _emit(obj: Any, table: str, lines: list[str]) -> None:
    fields = [f for f in dataclasses.fields(obj) if f.name not in _NOT_IN_FILE]
    nested = [(f.name, getattr(obj, f.name)) for f in fields if dataclasses.is_dataclass(getattr(obj, f.name))]
    scalars = [(f.name, getattr(obj, f.name)) for f in fields
               if getattr(obj, f.name) is not None and not dataclasses.is_dataclass(getattr(obj, f.name))]
    if table and (scalars or not nested):
        lines += ["", f"[{table}]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in scalars]
    for name, value in nested:
        _emit(value, f"{table}.{name}" if table else name, lines)
