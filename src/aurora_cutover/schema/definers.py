"""Who the migrated objects and accounts run as, on the target: definers that exist, roles that match.

    >>> definer_problems(target_admin, drift_result)
    ["view.v_roster: DEFINER 'report'@'%' does not exist on the target: ..."]
    >>> role_problems(source_admin, target_admin, m)
    ["'app'@'%': roles granted on the source only: app_rw"]

A view, routine, trigger or event runs with its DEFINER's rights; if that account does not exist on the target
the object fails at run time after cutover (error 1449), though the schema compares equal. Every definer of
either side's objects must exist on the target (SQL SECURITY INVOKER views and routines only warn: they run
as the caller). Roles (MySQL 8.0, MariaDB 10.0.5+): the role grants and default roles of every account whose
grants cover the database (or of the roles that do), and MySQL 8.0's mandatory_roles, compared source vs target.
Read with the admin login (mysql.*), read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.db.flavour import Flavour, detect_flavour
from aurora_cutover.schema.snapshot import Snapshot
from aurora_cutover.sql import grants, roles

_RUNS_AS = ("view", "routine", "trigger", "event")


@dataclass(frozen=True, order=True)
class Account:
    user: str
    host: str

    def __str__(self) -> str:
        return f"'{self.user}'@'{self.host}'"

    @property
    def role_name(self) -> str:
        """As a role: MariaDB roles have no host and MySQL's default host is '%': both print the bare name."""
        return self.user if self.host in ("", "%") else f"{self.user}@{self.host}"


def parse_definer(definer: str) -> Account | None:
    """``user@host`` as information_schema prints it (split at the last @: a host has none); a MariaDB role
    definer has no @. None for an empty definer."""
    if not definer:
        return None
    user, sep, host = definer.rpartition("@")
    return Account(user, host) if sep else Account(definer, "")


@dataclass(frozen=True)
class Definer:
    ref: str  # the object as drift names it: view.v, procedure.p, <table>.<trigger>, event.e
    account: Account
    invoker: bool  # SQL SECURITY INVOKER (views, routines): runs as the caller, the definer matters less

    def problem(self) -> str:
        why = ("(SQL SECURITY INVOKER: it runs as the caller, but SHOW CREATE and re-creation need it)"
               if self.invoker else "the object fails at run time after cutover (error 1449)")
        return f"{self.ref}: DEFINER {self.account} does not exist on the target: {why}"


def definers(snaps: Iterable[Snapshot], skip: Iterable[str] = ()) -> list[Definer]:
    """Every (object, definer) of the snapshots' views, routines, triggers and events, once each; objects whose
    ref is in ``skip`` are left out."""
    left_out = set(skip)
    out: dict[tuple[str, Account], Definer] = {}
    for snap in snaps:
        for (kind, table, name), a in snap.objects.items():
            acc = parse_definer(str(a.get("definer") or "")) if kind in _RUNS_AS else None
            if acc is None:
                continue
            ref = (f"{table}.{name}" if table else ".".join(name.split(" ", 1)) if kind == "routine"
                   else f"{kind}.{name}")
            if ref in left_out:
                continue
            invoker = str(a.get("security") or "").upper() == "INVOKER"
            out.setdefault((ref, acc), Definer(ref, acc, invoker))
    return sorted(out.values(), key=lambda d: (d.ref, d.account))


def missing_definers(found: list[Definer], exists: Callable[[Account], bool]) -> tuple[list[str], list[str]]:
    """(failures, warnings): definers that do not exist on the target; INVOKER objects only warn."""
    known = {a: exists(a) for a in sorted({d.account for d in found})}  # each account asked once
    bad = [d for d in found if not known[d.account]]
    return [d.problem() for d in bad if not d.invoker], [d.problem() for d in bad if d.invoker]


def _rows(conn: Any, sql: str | None, args: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
    if sql is None:
        return []
    with conn.cursor() as cur:
        cur.execute(sql, args)  # no args: no %-formatting
        return [tuple(_text(v) for v in r) for r in cur.fetchall()]


def _text(v: Any) -> Any:
    return v.decode() if isinstance(v, bytes | bytearray) else v


def definer_problems(target_admin: Any, source: Snapshot, target: Snapshot,
                     recreated: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """``recreated``: refs of the triggers the cutover creates on the target (DMS: drift's ``deferred``) — it
    creates them without a DEFINER clause, so theirs need not exist there."""
    def exists(a: Account) -> bool:
        return int(_rows(target_admin, roles.account_exists_sql(), (a.user, a.host))[0][0]) > 0
    return missing_definers(definers((source, target), skip=recreated), exists)


# ------------------------------------------------------------------ roles

@dataclass(frozen=True)
class RoleState:
    supported: bool
    granted: dict[Account, frozenset[str]]  # account -> role names (" WITH ADMIN OPTION" appended when held)
    defaults: dict[Account, frozenset[str]]
    mandatory: frozenset[str]


def _yes(v: Any) -> bool:
    return str(v).upper() in ("Y", "YES", "1")


def role_state(flavour: Flavour, grant_rows: list[tuple], default_rows: list[tuple],
               mandatory: str | None) -> RoleState:
    """Pure: the rows of :mod:`aurora_cutover.sql.roles` (one shape on every flavour) as a RoleState."""
    granted: dict[Account, set[str]] = {}
    for user, host, role, role_host, admin in grant_rows:
        name = Account(str(role), str(role_host or "")).role_name + (" WITH ADMIN OPTION" if _yes(admin) else "")
        granted.setdefault(Account(str(user), str(host)), set()).add(name)
    defaults: dict[Account, set[str]] = {}
    for user, host, role, role_host in default_rows:
        role_name = Account(str(role), str(role_host or "")).role_name
        defaults.setdefault(Account(str(user), str(host)), set()).add(role_name)
    listed = (parse_definer(x.strip().replace("`", "").replace("'", "")) for x in (mandatory or "").split(","))
    mand = frozenset(a.role_name for a in listed if a is not None)
    return RoleState(roles.supports_roles(flavour), {k: frozenset(v) for k, v in granted.items()},
                     {k: frozenset(v) for k, v in defaults.items()}, mand)


def compare_roles(src: RoleState, tgt: RoleState, accounts: set[Account]) -> list[str]:
    """Pure: role differences of ``accounts`` and of the roles they hold (a role granted to a role), plus
    mandatory_roles. Red names the account and the roles."""
    out = []
    if src.mandatory != tgt.mandatory:
        out.append(f"@@mandatory_roles: source {', '.join(sorted(src.mandatory)) or '(none)'}, target "
                   f"{', '.join(sorted(tgt.mandatory)) or '(none)'}: every account gets other roles after cutover")
    for acc in sorted(accounts):
        for what, s, t in (("roles granted", src.granted.get(acc, frozenset()), tgt.granted.get(acc, frozenset())),
                           ("default roles", src.defaults.get(acc, frozenset()), tgt.defaults.get(acc, frozenset()))):
            if s and not tgt.supported:
                out.append(f"{acc}: {what} on the source ({', '.join(sorted(s))}) but the target has no roles")
                continue
            for side, extra in (("source", s - t), ("target", t - s)):
                if extra:
                    out.append(f"{acc}: {what} on the {side} only: {', '.join(sorted(extra))}")
    return out


def _state(admin: Any) -> RoleState:
    f = detect_flavour(admin)
    mandatory = _rows(admin, roles.mandatory_roles_sql(f))
    return role_state(f, _rows(admin, roles.role_grants_sql(f)), _rows(admin, roles.default_roles_sql(f)),
                      str(mandatory[0][0] or "") if mandatory else None)


def role_problems(source_admin: Any, target_admin: Any, m: Migration) -> list[str]:
    db = m.source.database
    covered = {Account(str(u), str(h)) for u, h in _rows(source_admin, grants.accounts_sql(), (db, db))}
    src, tgt = _state(source_admin), _state(target_admin)
    if not src.supported and not tgt.supported:
        return []
    role_names = {a.role_name for a in covered}
    # accounts that get the database's privileges through a role, and the covered accounts themselves
    via_role = {acc for acc, names in src.granted.items() if {n.split(" WITH ")[0] for n in names} & role_names}
    return compare_roles(src, tgt, covered | via_role)
