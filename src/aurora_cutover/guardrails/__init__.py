"""Pre-flight guardrails: what RDS Blue/Green checks before switching, and more.

    >>> from aurora_cutover.guardrails import probes
    >>> probes.long_running_transactions(source_conn, max_age_s=60)
    []
"""
