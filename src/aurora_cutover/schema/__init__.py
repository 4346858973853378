"""Schema drift between source and target: snapshot (information_schema), normalise, compare, classify.

    >>> from aurora_cutover.schema import drift
    >>> [d.sentence() for d in drift.run(source_conn, target_conn, migration).failing]
    []
"""
