"""Pure builders for roles and definer accounts, per flavour (run by the admin login, read-only).

    >>> from aurora_cutover.db.flavour import parse_flavour
    >>> role_grants_sql(parse_flavour("8.0.36"))
    'SELECT TO_USER, TO_HOST, FROM_USER, FROM_HOST, WITH_ADMIN_OPTION FROM mysql.role_edges ORDER BY 1, 2, 3, 4'
    >>> role_grants_sql(parse_flavour("5.7.44-log")) is None      # no roles before 8.0
    True

Rows come back in one shape on every flavour: role grants as (user, host, role, role_host, admin option), default
roles as (user, host, role, role_host). MariaDB roles have no host: role_host is ''. MySQL 8.0's
``mandatory_roles`` (granted to every account) is a global; MariaDB has no such setting.
"""

from __future__ import annotations

from aurora_cutover.db.flavour import Flavour


def supports_roles(flavour: Flavour) -> bool:
    return flavour.mysql_at_least(8, 0, 0) or flavour.mariadb_at_least(10, 0, 5)


def role_grants_sql(flavour: Flavour) -> str | None:
    if flavour.mysql_at_least(8, 0, 0):
        return ("SELECT TO_USER, TO_HOST, FROM_USER, FROM_HOST, WITH_ADMIN_OPTION FROM mysql.role_edges "
                "ORDER BY 1, 2, 3, 4")
    if flavour.mariadb_at_least(10, 0, 5):
        return "SELECT User, Host, Role, '', Admin_option FROM mysql.roles_mapping ORDER BY 1, 2, 3"
    return None


def default_roles_sql(flavour: Flavour) -> str | None:
    if flavour.mysql_at_least(8, 0, 0):
        return ("SELECT USER, HOST, DEFAULT_ROLE_USER, DEFAULT_ROLE_HOST FROM mysql.default_roles "
                "ORDER BY 1, 2, 3, 4")
    if flavour.mariadb_at_least(10, 1, 1):
        return "SELECT User, Host, default_role, '' FROM mysql.user WHERE default_role <> '' ORDER BY 1, 2"
    return None


def mandatory_roles_sql(flavour: Flavour) -> str | None:
    return "SELECT @@global.mandatory_roles" if flavour.mysql_at_least(8, 0, 2) else None


def account_exists_sql() -> str:
    """Does user@host exist (mysql.user on 5.7, 8.0 and MariaDB, where roles are rows too)? Args: (user, host)."""
    return "SELECT COUNT(*) FROM mysql.user WHERE User = %s AND Host = %s"
