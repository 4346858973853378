"""The one fault-injection hook of the product: make the running action kill or freeze itself at a named point.

    AURORA_CUTOVER_FAULT="cutover:after:drain"          # SIGKILL right after `drain` is journaled done
    AURORA_CUTOVER_FAULT="rollback:inside:seal:STOP"    # SIGSTOP once `seal` did its work, before it is journaled

``<action>:<when>:<step>[:<signal>]`` — ``when`` is one of

* ``before``: the step's intent is journaled (step = it, running), nothing of it done;
* ``inside``: its ``do()`` returned (its effects are in place), it is NOT journaled done and its facts are not
  saved — the worst moment for the next run, which must undo or finish from the live state;
* ``after``: it is journaled done with its facts;

and ``signal`` is ``KILL`` (default: the process dies as a laptop that loses power) or ``STOP`` (the process
freezes as a paused VM does; ``SIGCONT`` wakes it). The runner calls :func:`reached` at those three points of
every step, so a new step is covered without any change here. Only the fault-matrix tests set the variable
(docs/fault-matrix.md); unset, it costs one dictionary look-up per point.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass

ENV = "AURORA_CUTOVER_FAULT"
WHEN = ("before", "inside", "after")
SIGNALS = {"KILL": signal.SIGKILL, "STOP": signal.SIGSTOP}


class FaultPointError(ValueError):
    """The variable is set but says nothing the runner can do (one line naming it)."""


@dataclass(frozen=True)
class FaultPoint:
    action: str
    when: str
    step: str
    signal: str = "KILL"

    def __str__(self) -> str:
        return f"{self.action}:{self.when}:{self.step}:{self.signal}"

    @classmethod
    def parse(cls, text: str) -> FaultPoint:
        parts = text.strip().split(":")
        if len(parts) not in (3, 4) or parts[0] not in ("cutover", "rollback") or parts[1] not in WHEN \
                or not parts[2] or (len(parts) == 4 and parts[3] not in SIGNALS):
            raise FaultPointError(f"{ENV}={text!r}: expected <cutover|rollback>:<{'|'.join(WHEN)}>:<step>"
                                  f"[:{'|'.join(SIGNALS)}]")
        return cls(*parts)  # type: ignore[arg-type]


def from_env(env: Mapping[str, str] | None = None) -> FaultPoint | None:
    text = (os.environ if env is None else env).get(ENV, "")
    return FaultPoint.parse(text) if text else None


def reached(point: FaultPoint | None, action: str, when: str, step: str) -> None:
    """Signal this process when ``point`` names this moment (SIGSTOP returns once the process is continued)."""
    if point is not None and (point.action, point.when, point.step) == (action, when, step):
        os.kill(os.getpid(), SIGNALS[point.signal])
