"""Identifier quoting — the only way names from servers or config enter SQL text.

    >>> quote_ident("weird`name")
    '`weird``name`'

A statement run with parameters (``cur.execute(sql, args)``) takes its names from :func:`param_ident` /
:func:`param_qualified` (``%`` doubled); one run without (``cur.execute(sql)``) from :func:`quote_ident` /
:func:`qualified`.
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


def param_ident(name: str) -> str:
    """An identifier for a statement that runs *with parameters*: the driver %-formats the whole text (PyMySQL
    does so for any args, even an empty tuple), so a ``%`` in a name must be doubled or the statement fails
    ("not enough arguments for format string") — a table ``pct%_log`` or a database ``edu%`` would break it.

    >>> param_ident("pct%_log")
    '`pct%%_log`'
    """
    return quote_ident(name).replace("%", "%%")


def param_qualified(database: str, table: str) -> str:
    return f"{param_ident(database)}.{param_ident(table)}"


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
