"""The parity engine's failures, and how a server error reads in a report line.

    >>> why(RuntimeError("boom"))
    'RuntimeError: boom'
    >>> retryable(type("E", (Exception,), {})(1213, "Deadlock found"))
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

T = TypeVar("T")
RETRY_WAIT_S, RETRY_WAIT_MAX_S = 0.2, 2.0  # backoff of a transient error's retries: 0.2, 0.4, 0.8 … ≤ 2 s

RETRYABLE_CODES = (1205, 1213, 2006, 2013)  # lock wait timeout, deadlock, server gone away, lost connection


class NoBarrier(RuntimeError):
    """No replication barrier could be passed (timed out, or not writable): settle rounds are impossible."""


class StatementTimeout(RuntimeError):
    """One statement ran out of time or lost its session; the session is usable again (reopened if it had to
    be). ``code`` is the server/client error (2006/2013: the session was lost and reopened)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class Unhashable(RuntimeError):
    """Rows whose hash came out NULL: the chunk fails by name rather than lose them from the comparison."""


def error_code(exc: BaseException) -> int | None:
    if isinstance(exc, StatementTimeout):
        return exc.code
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def retryable(exc: BaseException) -> bool:
    """Lock wait timeout (1205, also MDL waits), deadlock victim (1213), lost session (2006/2013, reopened by
    then): worth a retry with backoff. A statement the server ended for its time limit is not (it would run
    into the same limit again)."""
    return error_code(exc) in RETRYABLE_CODES


def why(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):
        return f"error {args[0]}: {args[1]}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def with_retries(fn: Callable[[], T], retries: int, on_retry: Callable[[BaseException], None] | None = None,
                 wait_s: float = RETRY_WAIT_S) -> T:
    """fn(), retried with exponential backoff while it fails with a ``retryable`` error, at most ``retries``
    times (then the last error is raised); ``on_retry(error)`` is told before each retry.

    >>> calls = []
    >>> def flaky():
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise OSError(1213, "Deadlock found when trying to get lock")
    ...     return "ok"
    >>> with_retries(flaky, 3, wait_s=0), len(calls)
    ('ok', 3)
    """
    def told(rs: RetryCallState) -> None:
        exc = rs.outcome.exception() if rs.outcome is not None else None
        if on_retry is not None and exc is not None:
            on_retry(exc)

    return Retrying(stop=stop_after_attempt(retries + 1), retry=retry_if_exception(retryable),
                    wait=wait_exponential(multiplier=wait_s, max=RETRY_WAIT_MAX_S), before_sleep=told,
                    reraise=True)(fn)
