"""Notifications on every hook event through apprise (Slack, Teams, PagerDuty, SNS, e-mail, json:// … one URL format).

    [notify]
    urls_env = ["MIG_NOTIFY_URLS"]        # env vars holding apprise URLs (they carry tokens: never a config key)
    secret_id = "prod/eduphoria/notify"   # and/or a Secrets Manager secret {"urls": [...]}
    timeout_s = 10.0                      # each send: connect and read timeouts; no retry
    status_interval_s = 3600.0            # on-status, like gh-ost's hourly status
    events = []                           # [] = every event

    >>> n = Notifier.from_config(m, base={"PHASE": "readiness", "REPORT": "reports/x.html"})
    >>> n.send("on-readiness-verdict", {"VERDICT": "NO-GO", "REASON": "1 of 41 tests did not pass: ..."})
    >>> n.close(deadline_s=20); n.as_evidence()     # [{"event": ..., "channel": "url 1 (json)", "outcome": "sent"}]

One message per event and URL (title: migration, event, verdict; body: the facts and the report path). Sends run on
one background thread in event order, so a slow chat server never lengthens a fence window or changes an action's
outcome; the queue is bounded (an overflow is recorded as dropped) and ``close`` waits at most ``deadline_s``.
Every send is recorded — channel by number and scheme only, never its URL — and a failure's reason has the URLs and
the config's secrets masked.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from aurora_cutover.config import ConfigError, Migration, Secret

MAX_QUEUED = 200  # events waiting to be sent; more is a storm: dropped and recorded
FAILURE = {"NO-GO", "UNDONE", "UNDO INCOMPLETE", "STOPPED AFTER FLIP", "REFUSED", "NOT RUN", "ERROR"}
SUCCESS = {"GO", "DONE", "DRY RUN"}


def _apprise() -> Any:
    import apprise

    return apprise


def check_url(key: str, url: str) -> None:
    """Config validation: apprise understands the URL. The message names the scheme at most, never the URL."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not scheme or _apprise().Apprise.instantiate(url, suppress_exceptions=True) is None:
        shown = f"scheme {scheme!r}" if scheme.isalnum() else "no scheme://"
        raise ConfigError(f"{key}: not a URL apprise can send to ({shown}; see https://github.com/caronc/apprise/wiki)")


def message(event: str, facts: dict[str, str]) -> tuple[str, str, str]:
    """(title, body, apprise notify type) for one event; pure. ``facts`` are the hook's env facts (upper-case)."""
    word = facts.get("VERDICT") or facts.get("STATE") or ""
    title = f"aurora-cutover {facts.get('MIGRATION', '')}: {event}" + (f" — {word}" if word else "")
    lines = [f"event: {event}"] + [f"{k.lower()}: {v}" for k, v in facts.items()
                                   if v and k not in ("MIGRATION", "CONFIG_FINGERPRINT")]
    if event == "on-failure" or word in FAILURE or event in ("on-undo", "on-stopped-after-flip",
                                                             "on-first-difference"):
        kind = "failure"
    elif event == "on-success" or word in SUCCESS:
        kind = "success"
    elif event.startswith("on-before-"):
        kind = "warning"
    else:
        kind = "info"
    return title, "\n".join(lines), kind


@dataclass
class Sent:
    event: str
    channel: str  # "url 2 (slack)": the URL itself is a secret
    outcome: str  # sent | failed | timeout | dropped | not sent
    duration_s: float
    queued_utc: str
    error: str = ""


class _Capture(logging.Handler):
    """apprise logs why a send failed; keep the last warning (masked later) and never let it reach pytest's log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.last = ""
        self.timed_out = False  # requests' "Read timed out" is only in apprise's debug lines

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        self.timed_out = self.timed_out or "timed out" in text.lower() or "timeout" in text.lower()
        if record.levelno >= logging.WARNING:
            self.last = text


@dataclass
class Notifier:
    urls: tuple[Secret, ...]
    timeout_s: float
    events: tuple[str, ...] = ()  # () = all
    mask: list[str] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    _queue: queue.Queue[tuple[str, dict[str, str], str] | None] = field(
        default_factory=lambda: queue.Queue(MAX_QUEUED))
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_config(cls, m: Migration, mask: Iterable[str] = ()) -> Notifier | None:
        if not m.notify_urls:
            return None
        urls = tuple(m.notify_urls)
        return cls(urls, m.notify.timeout_s, tuple(m.notify.events),
                   sorted({*mask, *(u.reveal() for u in urls), *_url_parts(urls)}, key=len, reverse=True))

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events

    def send(self, event: str, facts: dict[str, str]) -> None:
        """Queue one message per URL for this event (returns at once)."""
        if not self.wants(event):
            return
        queued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="aurora-cutover-notify", daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait((event, dict(facts), queued))
        except queue.Full:
            self._record([Sent(event, "all", "dropped", 0.0, queued, f"more than {MAX_QUEUED} waiting")])

    def close(self, deadline_s: float) -> None:
        """Send what is queued, waiting at most ``deadline_s``; what is left is recorded as not sent."""
        with self._lock:
            thread = self._thread
        if thread is None:
            return
        end = time.monotonic() + deadline_s
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=deadline_s)
        thread.join(timeout=max(0.0, end - time.monotonic()))
        left = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                left.append(Sent(item[0], "all", "not sent", 0.0, item[2], f"session ended ({deadline_s:g}s limit)"))
        self._record(left)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            event, facts, queued = item
            self._record([self._deliver(i, url, event, facts, queued) for i, url in enumerate(self.urls, 1)])

    def _deliver(self, i: int, url: Secret, event: str, facts: dict[str, str], queued: str) -> Sent:
        apprise = _apprise()
        scheme = url.reveal().split("://", 1)[0]
        channel = f"url {i} ({scheme})"
        title, body, kind = message(event, facts)
        title, body = self._masked(title), self._masked(body)
        t0 = time.monotonic()
        log = logging.getLogger("apprise")
        capture = _Capture()
        log.addHandler(capture)
        log.propagate = False  # apprise's own lines stay out of pytest's captured log (and the report)
        log.setLevel(logging.DEBUG)  # only our handler is on it
        try:
            server = apprise.Apprise.instantiate(url.reveal(), suppress_exceptions=True)
            if server is None:
                return Sent(event, channel, "failed", 0.0, queued, "not a URL apprise can send to")
            server.socket_connect_timeout = server.socket_read_timeout = self.timeout_s
            ok = bool(server.notify(body=body, title=title, notify_type=getattr(apprise.NotifyType, kind.upper())))
        except Exception as exc:  # a notification never changes an outcome: record it
            ok, capture.last = False, f"{type(exc).__name__}: {exc}"
        finally:
            log.removeHandler(capture)
        took = round(time.monotonic() - t0, 3)
        error = "" if ok else self._masked(capture.last or "apprise reported a failure")[:300]
        outcome = "sent" if ok else "timeout" if capture.timed_out else "failed"
        return Sent(event, channel, outcome, took, queued, error)

    def _masked(self, text: str) -> str:
        for s in self.mask:
            text = text.replace(s, "***")
        return text

    def _record(self, sent: list[Sent]) -> None:
        with self._lock:
            self.sent += sent

    def as_evidence(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(s) for s in self.sent]


def _url_parts(urls: Iterable[Secret]) -> list[str]:
    """The pieces of each URL that may be a token: its user and password, and host / path / query parts that look
    like one (8+ characters mixing letters and digits: slack://TokenA/TokenB/TokenC keeps tokens in the host)."""
    from urllib.parse import urlsplit

    out = []
    for u in urls:
        try:
            parts = urlsplit(u.reveal())
            host = parts.hostname or ""
        except ValueError:
            continue
        out += [w for w in (parts.username, parts.password) if w and len(w) >= 3]
        words = [host, *parts.path.split("/"), *(kv.split("=", 1)[-1] for kv in parts.query.split("&"))]
        out += [w for w in words if len(w) >= 8 and any(c.isdigit() for c in w) and any(c.isalpha() for c in w)]
    return out
