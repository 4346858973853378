"""Cutover and rollback: gated, fenced, drained, compare-and-swap DNS flip, verified, journaled, with undo.

    >>> from aurora_cutover.cutover.actions import run_action
    >>> res, doc = run_action("cutover", m, route53=aws("route53"), aws=aws, relied_on={...},
    ...                       on_progress=save)                   # see actions/test_cutover.py
    >>> res.ok, res.state
    (True, 'done')

Layout: ``actions`` (entry points: plan, run_action, recovery of a crashed run), ``journal`` (the DynamoDB
journal: lease + fencing token), ``lock`` (the lock row when no journal is configured), ``context`` (config,
admin sessions, deadline, facts, TLS per session), ``runner`` (timed steps with do/undo), ``steps`` /
``rollback`` (the step lists) built from the roles — ``fencer`` (fence, seal, unfence), ``replicator``
(forward/reverse paths, native or DMS, trigger moves), ``flipper`` (the DNS compare-and-swap), ``verifier``
(the app lands on the new primary), ``base`` (the step failure, logins) — plus ``probes`` (re-check probes,
counts, parity proofs), ``triggers`` (DMS-mode trigger moves) and ``faultpoint`` (the fault-matrix tests' hook).
SQL is built in :mod:`aurora_cutover.sql` (``lock``, ``tables``, ``session``, ``fence``, ``replication``).
"""
