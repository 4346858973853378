"""Identifier quoting — the only way names from servers or config enter SQL text.

    >>> quote_ident("weird`name")
    '`weird``name`'
"""

from __future__ import annotations


def quote_ident(name: str) -> str:
    if not name or "\x00" in name:
        raise ValueError(f"invalid identifier {name!r}")
    return "`" + name.replace("`", "``") + "`"


def qualified(database: str, table: str) -> str:
    return f"{quote_ident(database)}.{quote_ident(table)}"
