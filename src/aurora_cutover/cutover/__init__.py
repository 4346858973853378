"""Cutover and rollback: gated, fenced, drained, compare-and-swap DNS flip, verified, with undo.

    >>> from aurora_cutover.cutover.actions import cutover
    >>> result = cutover(m, relied_on=gate, lock=lock, checkpoint=save)   # see actions/test_cutover.py
    >>> result.ok, result.state
    (True, 'cut over')

Layout: ``sql`` (pure builders: lock table, counts, row digests), ``lock`` (the cutover lock row),
``context`` (connections, deadline, facts), ``runner`` (timed steps with do/undo), ``steps`` /
``rollback`` (the step lists), ``probes`` (minimal re-check probes), ``actions`` (entry points).
"""
