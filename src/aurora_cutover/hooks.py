"""gh-ost style hooks: executables in ``[hooks] dir`` named after events, run with the facts in env vars.

    hooks/on-before-fence      exit non-zero → the action stops before it changes anything (undone, lock released)
    hooks/on-flipped           any failure is recorded in the evidence and changes no verdict
    [notify] urls_env = [...]  every event is also one apprise message per URL (aurora_cutover.notify)

    >>> h = Hooks.from_config(m, phase="cutover", report=ev.html_path, evidence=ev.json_path)
    >>> h.fire("on-readiness-verdict", verdict="GO")       # → Firing (or None: no such hook)

Each hook runs at most ``hooks.timeout_s`` (then killed), with the caller's environment plus
AURORA_CUTOVER_EVENT / _PHASE / _MIGRATION / _REPORT / _EVIDENCE and the event's facts (_VERDICT, _STEP,
_STATE, _RUN_ID, _ETA_S …); the same facts arrive as one JSON object on stdin (lower-case keys). Only the exit
status, the time taken and the last line of stderr (secrets masked) are recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aurora_cutover.config import ConfigError, Migration, Secret
from aurora_cutover.notify import SUCCESS, Notifier

# Session events fire from the plugin; step events through the runner's before:<step> hooks and the checkpoint.
EVENTS = ("on-readiness-verdict", "on-first-difference", "on-cutover-armed", "on-before-fence", "on-before-flip",
          "on-fenced", "on-flipped", "on-verified", "on-undo", "on-stopped-after-flip", "on-cutover", "on-rollback",
          "on-success", "on-failure", "on-status")
# A step's name → the event fired before it starts / once it is done (cutover and rollback share the events).
BEFORE = {"fence": "on-before-fence", "fence_target": "on-before-fence", "flip": "on-before-flip",
          "flip_back": "on-before-flip"}
AFTER = {"fence": "on-fenced", "fence_target": "on-fenced", "flip": "on-flipped", "flip_back": "on-flipped",
         "verify": "on-verified"}
FINAL = {"undone": "on-undo", "UNDO INCOMPLETE": "on-undo", "STOPPED AFTER FLIP": "on-stopped-after-flip"}


class HookRefused(Exception):
    """An on-before-* hook failed: the action stops here."""


def check_dir(path: Path) -> None:
    """Config validation: the dir exists and every ``on-*`` file in it is a known event and executable."""
    if not path.is_dir():
        raise ConfigError(f"hooks.dir: {path} is not a directory")
    for f in sorted(path.iterdir()):
        if not f.name.startswith("on-"):
            continue  # READMEs, helpers
        if f.name not in EVENTS:
            raise ConfigError(f"hooks.dir: {f.name} is not an event (events: {', '.join(EVENTS)})")
        if not (f.is_file() and os.access(f, os.X_OK)):
            raise ConfigError(f"hooks.dir: {f.name} is not an executable file")


@dataclass
class Firing:
    event: str
    exit_code: int | None  # None: killed at the timeout or could not start
    outcome: str  # ok | failed | timeout | cannot run
    duration_s: float
    started_utc: str
    stderr_tail: str = ""
    facts: dict[str, str] = field(default_factory=dict)


def _secrets(m: Migration) -> list[str]:
    out = [u.reveal() for u in m.notify_urls]
    for login in (m.source.login, m.source.admin_login, m.target.login, m.target.admin_login, m.application.login):
        pw = getattr(login, "password", None)
        if isinstance(pw, Secret) and pw.reveal():
            out.append(pw.reveal())
    return out


@dataclass
class Hooks:
    dir: Path | None
    timeout_s: float
    base: dict[str, str]  # facts every event carries
    mask: list[str] = field(default_factory=list)
    notifier: Notifier | None = None  # every event is also a notification ([notify])
    fired: list[Firing] = field(default_factory=list)
    _done: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_config(cls, m: Migration, *, phase: str, report: Path | str = "", evidence: Path | str = "") -> Hooks:
        mask = _secrets(m)
        return cls(Path(m.hooks.dir) if m.hooks.dir else None, m.hooks.timeout_s,
                   {"PHASE": phase, "MIGRATION": m.migration.name, "REPORT": str(report), "EVIDENCE": str(evidence),
                    "CONFIG_FINGERPRINT": m.fingerprint()}, mask, Notifier.from_config(m, mask))

    def has(self, event: str) -> bool:
        return self.dir is not None and (self.dir / event).is_file()

    def listens(self, event: str) -> bool:
        """A hook or a notification is waiting for this event."""
        return self.has(event) or (self.notifier is not None and self.notifier.wants(event))

    def fire(self, event: str, **facts: Any) -> Firing | None:
        """Notify (queued, returns at once), then run the event's hook if there is one (bounded, recorded)."""
        if event not in EVENTS:
            raise ValueError(f"unknown hook event {event!r}")
        env_facts = self.env_facts(facts)
        if self.notifier is not None:
            self.notifier.send(event, env_facts)
        return self.run_hook(event, env_facts)

    def env_facts(self, facts: dict[str, Any]) -> dict[str, str]:
        return {k.upper(): "" if v is None else str(v) for k, v in {**self.base, **facts}.items()}

    def run_hook(self, event: str, env_facts: dict[str, str]) -> Firing | None:
        if not self.has(event):
            return None
        assert self.dir is not None
        payload = json.dumps({"event": event, **{k.lower(): v for k, v in env_facts.items()}})
        env = {**os.environ, "AURORA_CUTOVER_EVENT": event,
               **{f"AURORA_CUTOVER_{k}": v for k, v in env_facts.items()}}
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        t0 = time.monotonic()
        try:
            # Own process group: at the timeout the hook's children (sleep, curl …) go too, and free our pipes.
            p = subprocess.Popen([str(self.dir / event)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 stdin=subprocess.PIPE, cwd=self.dir, text=True, start_new_session=True)
            try:
                _out, err = p.communicate(payload + "\n", timeout=self.timeout_s)
                code: int | None = p.returncode
                outcome = "ok" if code == 0 else "failed"
                tail = (err.strip().splitlines() or [""])[-1]
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.communicate(timeout=5)
                code, outcome, tail = None, "timeout", f"killed after hooks.timeout_s = {self.timeout_s:g}s"
        except OSError as exc:
            code, outcome, tail = None, "cannot run", f"{type(exc).__name__}: {exc.strerror or exc}"
        for s in self.mask:
            tail = tail.replace(s, "***")
        f = Firing(event, code, outcome, round(time.monotonic() - t0, 3), started, tail[:300], env_facts)
        with self._lock:
            self.fired.append(f)
        return f

    def before_step_hooks(self) -> dict[str, Callable[[Any], None]]:
        """For ``run_action(hooks=...)``: the runner calls ``before:<step>`` just before that step's do(); raising
        there makes the runner undo what was done (before the fence: nothing changed yet)."""
        def gate(step: str) -> Callable[[Any], None]:
            def run(ctx: Any) -> None:
                f = self.fire(BEFORE[step], step=step, run_id=getattr(ctx, "run_id", ""))
                if f is not None and f.outcome != "ok":
                    raise HookRefused(f"hook {f.event} {f.outcome} (exit {f.exit_code}): {f.stderr_tail}")
            return run
        return {f"before:{s}": gate(s) for s, e in BEFORE.items() if self.listens(e)}

    def on_progress(self, doc: dict[str, Any]) -> None:
        """For the action checkpoint: fire each after-step event once, and the final state's event."""
        for s in doc.get("steps") or []:
            event = AFTER.get(str(s.get("step")))
            key = f"{event}:{s.get('step')}"
            if event and s.get("outcome") == "done" and key not in self._done:
                self._done.add(key)
                details = {k: v for k, v in (s.get("details") or {}).items()
                           if isinstance(v, str | int | float) and k.isidentifier()}  # flip: status INSYNC, to ...
                self.fire(event, **details, step=s["step"], run_id=doc.get("run_id"), state=doc.get("state"),
                          duration_s=s.get("duration_s"))
        final = FINAL.get(str(doc.get("state")))
        if final and final not in self._done:
            self._done.add(final)
            self.fire(final, state=doc.get("state"), run_id=doc.get("run_id"), message=doc.get("message"),
                      failed_step=doc.get("failed_step"))

    def first_difference(self, nodeid: str, message: str, table: Any = None, **facts: Any) -> Firing | None:
        """on-first-difference, once a session: the first failing parity test's report (not the end of the pass)."""
        with self._lock:
            if "on-first-difference" in self._done:
                return None
            self._done.add("on-first-difference")
        return self.fire("on-first-difference", test=nodeid, table=table or "", message=message, **facts)

    def session_end(self, event: str | None, verdict: str, reason: str) -> None:
        """The session's own event, then on-success or on-failure (gh-ost's pair) for whatever ended it."""
        if event is not None:
            self.fire(event, verdict=verdict, reason=reason)
        self.fire("on-success" if verdict in SUCCESS else "on-failure", verdict=verdict, reason=reason)

    def close(self, deadline_s: float) -> None:
        """Let queued notifications go out (bounded)."""
        if self.notifier is not None:
            self.notifier.close(deadline_s)

    def as_evidence(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self.fired]

    def notifications(self) -> list[dict[str, Any]]:
        return self.notifier.as_evidence() if self.notifier is not None else []


class StatusTicker:
    """on-status every ``interval_s`` (the hook) and every ``notify_interval_s`` (the notification) until stopped;
    bounded by count too (a session never runs for ever)."""

    def __init__(self, hooks: Hooks, interval_s: float, facts: Callable[[], dict[str, Any]],
                 max_count: int = 10_000, notify_interval_s: float | None = None) -> None:
        self.hooks, self.facts, self.max_count = hooks, facts, max_count
        self._stop = threading.Event()
        n = hooks.notifier
        channels = [(interval_s, lambda f: hooks.run_hook("on-status", f))] if hooks.has("on-status") else []
        if n is not None and n.wants("on-status"):
            channels.append((notify_interval_s or interval_s, lambda f: n.send("on-status", f)))
        self._threads = [threading.Thread(target=self._run, args=c, name="aurora-cutover-on-status", daemon=True)
                         for c in channels]

    def start(self) -> StatusTicker:
        for t in self._threads:
            t.start()
        return self

    def _run(self, interval_s: float, send: Callable[[dict[str, str]], Any]) -> None:
        for _ in range(self.max_count):
            if self._stop.wait(interval_s):
                return
            send(self.hooks.env_facts(self.facts()))

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            if t.is_alive():
                t.join(timeout=self.hooks.timeout_s + 1)


def is_parity(nodeid: str) -> bool:
    """A data-parity check (its failure is a difference between the sides): checks/test_data_parity*.py."""
    return "parity" in nodeid.split("::")[0].rsplit("/", 1)[-1]


def names(fired: Iterable[dict[str, Any]]) -> list[str]:
    return [str(f["event"]) for f in fired]
