"""Pure builder for the server-settings comparison (schema/settings.py): one SHOW GLOBAL VARIABLES.

    >>> show_global_variables(("time_zone", "tx_isolation"))
    ('SHOW GLOBAL VARIABLES WHERE Variable_name IN (%s, %s)', ('time_zone', 'tx_isolation'))
"""

from __future__ import annotations


def show_global_variables(names: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    if not names:
        raise ValueError("no variable names")
    return f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({', '.join(['%s'] * len(names))})", names
