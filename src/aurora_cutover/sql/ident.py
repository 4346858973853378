"""Identifier quoting — the only way names from servers or config enter SQL text.

    >>> quote_ident("weird`name")
    '`weird``name`'
"""

from __future__ import annotations

import re


def quote_ident(name: str) -> str:
    if not name or "\x00" in name:
        raise ValueError(f"invalid identifier {name!r}")
    return "`" + name.replace("`", "``") + "`"


def literal(value: str) -> str:
    """A SQL string literal for names that cannot be bound as parameters (ALTER USER, CHANGE MASTER).

    >>> literal("it's")
    "'it''s'"
    """
    if "\x00" in value:
        raise ValueError("NUL in SQL literal")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def qualified(database: str, table: str) -> str:
    return f"{quote_ident(database)}.{quote_ident(table)}"


def like_regex(pattern: str) -> str:
    """A MySQL LIKE pattern as a regular expression: % any run, _ one character, backslash escapes the next.

    >>> like_regex(r"app\\_%")
    'app_.*'
    """
    rx, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            rx += re.escape(pattern[i + 1])
            i += 2
            continue
        rx += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return rx
