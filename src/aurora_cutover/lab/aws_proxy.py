"""The lab's AWS front door: a reverse proxy on ``aws.endpoint_url`` in front of moto (endpoint port + 1)
that makes Route 53 behave like Route 53 and injects the faults AWS really returns.

    python -m aurora_cutover.lab.aws_proxy --listen 127.0.0.1:4566 --moto http://127.0.0.1:4567 \\
        --dms http://127.0.0.1:4568 --propagation-s 3

Everything is forwarded verbatim, except:

* ``X-Amz-Target: AmazonDMSv20160101.*`` goes to the lab's DMS service when it listens, else to moto.
* ChangeResourceRecordSets: a DELETE must match the record's current values exactly (moto only checks
  that the values existed at some time; Route 53 refuses with InvalidChangeBatch). An accepted change
  gets its own change id and stays PENDING for ``propagation_s`` (moto answers INSYNC at once, with one
  fixed id for every change); GetChange says PENDING, then INSYNC. ``GET /_lab/route53/pending`` lists
  the names still propagating with their old and new values (the lab DNS server answers either).
* Faults (``POST/GET/DELETE /_lab/faults``, client: :mod:`aurora_cutover.lab.faults`): ``throttle``,
  ``prior_request``, ``5xx``, ``lost_reply`` (applied, never answered), ``stuck_pending``, ``down`` (the
  connection is closed unanswered, nothing forwarded: the API unreachable). ``op = "*"`` matches every operation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import logging
import re
import secrets
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

log = logging.getLogger("lab-aws-proxy")

DEFAULT_PROPAGATION_S = 3.0
LOST_REPLY_HOLD_S = 60.0  # a lost reply holds the connection until the client gives up, at most this long
NS = "https://route53.amazonaws.com/doc/2013-04-01/"
KINDS = ("throttle", "prior_request", "5xx", "lost_reply", "stuck_pending", "down")
ANY_OP = "*"  # a fault for every operation (``down``: the AWS API unreachable)
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
       "content-length"}


# --------------------------------------------------------------------------- pure parts


def operation(method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    """The AWS operation a request calls (JSON target, Route 53 REST path, or query ``Action``)."""
    target = headers.get("x-amz-target", "")
    if target:
        return target.rsplit(".", 1)[-1]
    u = urlsplit(path)
    parts = [p for p in u.path.split("/") if p]
    if parts[:1] == ["2013-04-01"]:
        rest = parts[1:]
        if rest[:1] == ["change"]:
            return "GetChange"
        if rest[:1] == ["hostedzone"] and len(rest) >= 3 and rest[2] == "rrset":
            return "ChangeResourceRecordSets" if method == "POST" else "ListResourceRecordSets"
        if rest[:1] == ["hostedzonesbyname"]:
            return "ListHostedZonesByName"
        if rest[:1] == ["hostedzone"]:
            return {"POST": "CreateHostedZone", "DELETE": "DeleteHostedZone"}.get(
                method, "GetHostedZone" if len(rest) >= 2 else "ListHostedZones")
        return "Route53:" + "/".join(rest[:1])
    query = parse_qs(u.query)
    if "Action" in query:
        return query["Action"][0]
    if body and b"Action=" in body:
        form = parse_qs(body.decode(errors="replace"))
        if "Action" in form:
            return form["Action"][0]
    return ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: ElementTree.Element, name: str) -> ElementTree.Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _text(el: ElementTree.Element | None, name: str) -> str | None:
    c = None if el is None else _child(el, name)
    return None if c is None or c.text is None else c.text.strip()


def normalise(name: str) -> str:
    return name.rstrip(".").lower()


@dataclass(frozen=True)
class RecordChange:
    action: str  # CREATE | DELETE | UPSERT
    name: str
    type: str
    ttl: int | None
    values: tuple[str, ...]
    alias: bool = False


def parse_change_batch(body: bytes) -> list[RecordChange]:
    """The changes of a ChangeResourceRecordSets request body (Route 53 XML)."""
    root = ElementTree.fromstring(body)
    out: list[RecordChange] = []
    for el in root.iter():
        if _local(el.tag) != "Change":
            continue
        rrs = _child(el, "ResourceRecordSet")
        if rrs is None:
            continue
        records = _child(rrs, "ResourceRecords")
        values = tuple(normalise(_text(r, "Value") or "") for r in (records if records is not None else []))
        ttl = _text(rrs, "TTL")
        out.append(RecordChange(_text(el, "Action") or "", normalise(_text(rrs, "Name") or ""),
                                _text(rrs, "Type") or "", int(ttl) if ttl else None, values,
                                alias=_child(rrs, "AliasTarget") is not None))
    return out


def rewrite_change_info(xml: bytes, *, change_id: str, status: str, submitted_utc: str | None = None) -> bytes:
    """The ChangeInfo of a Route 53 reply with our change id / status (/ submit time); the rest untouched."""
    def fix(mo: re.Match[bytes]) -> bytes:
        block = mo.group(0)
        block = re.sub(rb"<Id>[^<]*</Id>", b"<Id>/change/" + change_id.encode() + b"</Id>", block, count=1)
        block = re.sub(rb"<Status>[^<]*</Status>", b"<Status>" + status.encode() + b"</Status>", block, count=1)
        if submitted_utc:
            block = re.sub(rb"<SubmittedAt>[^<]*</SubmittedAt>",
                           b"<SubmittedAt>" + submitted_utc.encode() + b"</SubmittedAt>", block, count=1)
        return block

    return re.sub(rb"<ChangeInfo>.*?</ChangeInfo>", fix, xml, count=1, flags=re.S)


def change_id_of(path: str) -> str:
    return urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1]


def error_body(op: str, code: str, message: str, *, json_protocol: bool, sender: bool = True) -> bytes:
    """An AWS error body in the protocol the caller speaks (Route 53 / query XML, or JSON)."""
    if json_protocol:
        return json.dumps({"__type": code, "message": message}).encode()
    rid = secrets.token_hex(16)
    kind = "Sender" if sender else "Receiver"
    ns = f' xmlns="{NS}"' if not op or op in ROUTE53_OPS else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse{ns}><Error><Type>{kind}</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{rid}</RequestId>"
            "</ErrorResponse>").encode()


ROUTE53_OPS = {"ChangeResourceRecordSets", "ListResourceRecordSets", "GetChange", "ListHostedZones",
               "ListHostedZonesByName", "GetHostedZone", "CreateHostedZone", "DeleteHostedZone"}

# (status, code, message, sender) per fault kind; 5xx alternates between the two Route 53 returns.
FAULT_REPLY = {
    "throttle": [(400, "Throttling", "Rate exceeded", True)],
    "prior_request": [(400, "PriorRequestNotComplete", "The request was rejected because Route 53 was still "
                       "processing a prior request.", True)],
    "5xx": [(503, "ServiceUnavailable", "Service is unavailable. Try again later.", False),
            (500, "InternalFailure", "The request processing has failed because of an unknown error.", False)],
}


@dataclass
class Fault:
    op: str
    kind: str
    count: int
    used: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "kind": self.kind, "count": self.count, "used": self.used,
                "remaining": self.count - self.used}


class Faults:
    """A queue of injected faults; each matching request uses one, in order of injection (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, op: str, kind: str, count: int = 1) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if not op:
            raise ValueError("op: the AWS operation name, e.g. ChangeResourceRecordSets")
        if count < 1:
            raise ValueError("count must be >= 1")
        f = Fault(op, kind, int(count))
        with self._lock:
            self._faults.append(f)
        return f

    def take(self, op: str, kinds: tuple[str, ...] = KINDS) -> Fault | None:
        """Use one of the first matching fault (op and one of ``kinds``) that has uses left."""
        with self._lock:
            for f in self._faults:
                if f.op in (op, ANY_OP) and f.kind in kinds and f.used < f.count:
                    f.used += 1
                    return f
        return None

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def clear(self) -> int:
        with self._lock:
            n = len(self._faults)
            self._faults.clear()
        return n


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Change:
    id: str
    submitted: float  # monotonic
    submitted_wall: float
    names: list[dict[str, Any]]  # {"name", "type", "old": {"values","ttl"} | None, "new": ... | None}
    stuck: bool = False


@dataclass
class Propagation:
    """Accepted Route 53 changes and when they are INSYNC (``propagation_s`` after submission)."""

    propagation_s: float = DEFAULT_PROPAGATION_S
    clock: Any = time.monotonic
    _changes: dict[str, Change] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, names: list[dict[str, Any]], *, stuck: bool = False) -> Change:
        cid = "C" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(13))
        ch = Change(cid, self.clock(), time.time(), names, stuck)
        with self._lock:
            self._changes[cid] = ch
        return ch

    def status(self, change_id: str) -> str | None:
        """PENDING / INSYNC for a change we recorded, None for one we do not know."""
        with self._lock:
            ch = self._changes.get(change_id)
        if ch is None:
            return None
        return "PENDING" if ch.stuck or self.clock() - ch.submitted < self.propagation_s else "INSYNC"

    def get(self, change_id: str) -> Change | None:
        with self._lock:
            return self._changes.get(change_id)

    def unstick(self) -> int:
        with self._lock:
            stuck = [c for c in self._changes.values() if c.stuck]
            for c in stuck:
                c.stuck = False
        return len(stuck)

    def forget(self) -> None:
        with self._lock:
            self._changes.clear()

    def pending(self) -> list[dict[str, Any]]:
        """Names still propagating: old value = before the oldest pending change, new = after the newest."""
        now = self.clock()
        with self._lock:
            changes = sorted(self._changes.values(), key=lambda c: c.submitted)
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for ch in changes:
            if not (ch.stuck or now - ch.submitted < self.propagation_s):
                continue
            for n in ch.names:
                key = (n["name"], n["type"])
                if key in out:
                    out[key].update(new=n["new"], change_id=ch.id)
                else:
                    left = None if ch.stuck else round(self.propagation_s - (now - ch.submitted), 3)
                    out[key] = {**n, "change_id": ch.id, "submitted_utc": _iso(ch.submitted_wall),
                                "stuck": ch.stuck, "insync_in_s": left}
        return list(out.values())


def delete_mismatch(changes: list[RecordChange], current: dict[tuple[str, str], dict[str, Any] | None]) -> str:
    """Route 53's CAS: a DELETE must match the current values and TTL exactly; '' when it does."""
    for c in changes:
        if c.action != "DELETE" or c.alias:
            continue
        now = current.get((c.name, c.type))
        if now is None or now.get("alias"):
            return (f"Tried to delete resource record set [name='{c.name}.', type='{c.type}'] but it was not found")
        if sorted(now["values"]) != sorted(c.values) or now["ttl"] != c.ttl:
            return (f"Tried to delete resource record set [name='{c.name}.', type='{c.type}'] but the values "
                    "provided do not match the current values")
    return ""


# --------------------------------------------------------------------------- the server


class Upstream:
    def __init__(self, url: str) -> None:
        u = urlsplit(url)
        self.url, self.host, self.port = url, u.hostname or "127.0.0.1", u.port or 80

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes,
                timeout_s: float = 60.0) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout_s)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read()
        finally:
            conn.close()

    def listening(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.3):
                return True
        except OSError:
            return False


class LabAwsProxy(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, listen: tuple[str, int], moto: str, dms: str = "",
                 propagation_s: float = DEFAULT_PROPAGATION_S, lost_reply_hold_s: float = LOST_REPLY_HOLD_S) -> None:
        super().__init__(listen, Handler)
        self.moto, self.dms = Upstream(moto), Upstream(dms) if dms else None
        self.faults = Faults()
        self.propagation = Propagation(propagation_s)
        self.lost_reply_hold_s = lost_reply_hold_s
        self.change_lock = threading.Lock()  # pre-read + apply of a batch is atomic, as Route 53's CAS is
        self.served: dict[str, int] = {}
        self._r53: Any = None

    def route53(self) -> Any:
        if self._r53 is None:
            import boto3
            from botocore.config import Config

            self._r53 = boto3.client("route53", endpoint_url=self.moto.url, region_name="us-east-1",
                                     aws_access_key_id="lab", aws_secret_access_key="lab",
                                     config=Config(connect_timeout=3, read_timeout=15,
                                                   retries={"max_attempts": 1}))
        return self._r53

    def current(self, zone_id: str, name: str, rtype: str) -> dict[str, Any] | None:
        rrs = self.route53().list_resource_record_sets(HostedZoneId=zone_id, StartRecordName=name,
                                                       StartRecordType=rtype, MaxItems="1")["ResourceRecordSets"]
        for rr in rrs:
            if normalise(rr["Name"]) == name and rr["Type"] == rtype:
                return {"values": sorted(normalise(v["Value"]) for v in rr.get("ResourceRecords", [])),
                        "ttl": int(rr["TTL"]) if "TTL" in rr else None, "alias": "AliasTarget" in rr}
        return None

    def status(self) -> dict[str, Any]:
        return {"propagation_s": self.propagation.propagation_s, "moto": self.moto.url,
                "dms": self.dms.url if self.dms else "", "dms_listening": bool(self.dms and self.dms.listening()),
                "faults": self.faults.listing(), "pending": self.propagation.pending(), "served": dict(self.served)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: Nagle + delayed ACK cost 40 ms a call
    server: LabAwsProxy

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    # ------------------------------------------------------------------ plumbing

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None,
               content_type: str = "text/xml") -> None:
        self.send_response(status)
        sent_type = False
        for k, v in headers or []:
            if k.lower() in HOP or k.lower() in ("date", "server"):
                continue
            sent_type |= k.lower() == "content-type"
            self.send_header(k, v)
        if not sent_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, doc: Any) -> None:
        self._reply(status, json.dumps(doc).encode(), content_type="application/json")

    def _forward(self, upstream: Upstream, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["Content-Length"] = str(len(body))
        return upstream.request(self.command, self.path, headers, body)

    def _hold(self) -> None:
        """lost_reply: answer nothing; keep the connection until the client closes it (bounded)."""
        self.close_connection = True
        deadline = time.monotonic() + self.server.lost_reply_hold_s
        sock = self.connection
        while time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0.5)
            if readable:
                try:
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        return  # the client gave up
                except OSError:
                    return
                time.sleep(0.1)  # a new request on a connection we never answered: keep ignoring it

    # ------------------------------------------------------------------ dispatch

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        if path.startswith("/_lab/"):
            return self._lab(path, body)
        headers = {k.lower(): v for k, v in self.headers.items()}
        op = operation(self.command, self.path, headers, body)
        srv = self.server
        srv.served[op or "?"] = srv.served.get(op or "?", 0) + 1
        json_protocol = bool(headers.get("x-amz-target"))
        if srv.faults.take(op or "?", ("down",)) is not None:
            log.info("fault down on %s: connection closed, no reply", op)
            self.close_connection = True
            return None
        fault = srv.faults.take(op, ("throttle", "prior_request", "5xx")) if op else None
        if fault is not None:
            status, code, message, sender = FAULT_REPLY[fault.kind][(fault.used - 1) % len(FAULT_REPLY[fault.kind])]
            log.info("fault %s on %s (%d/%d): %s", fault.kind, op, fault.used, fault.count, code)
            ctype = "application/x-amz-json-1.1" if json_protocol else "text/xml"
            return self._reply(status, error_body(op, code, message, json_protocol=json_protocol, sender=sender),
                               content_type=ctype)
        upstream = srv.moto
        if headers.get("x-amz-target", "").startswith("AmazonDMSv20160101.") and srv.dms and srv.dms.listening():
            upstream = srv.dms
        try:
            if op == "ChangeResourceRecordSets" and upstream is srv.moto:
                return self._change(body)
            if op == "GetChange" and upstream is srv.moto:
                return self._get_change(body)
            status, rheaders, rbody = self._forward(upstream, body)
        except OSError as exc:
            log.warning("upstream %s: %s", upstream.url, exc)
            return self._reply(502, error_body(op, "ServiceUnavailable", "lab upstream unavailable",
                                               json_protocol=json_protocol, sender=False))
        if path.rstrip("/") == "/moto-api/reset" and self.command == "POST" and status == 200:
            srv.propagation.forget()  # a fresh emulator has no changes in flight
        if op and srv.faults.take(op, ("lost_reply",)) is not None:
            log.info("fault lost_reply on %s: forwarded, no reply", op)
            return self._hold()
        self._reply(status, rbody, rheaders)

    def _change(self, body: bytes) -> None:
        srv = self.server
        zone_id = urlsplit(self.path).path.split("/")[3]
        try:
            changes = parse_change_batch(body)
        except ElementTree.ParseError:
            status, rheaders, rbody = self._forward(srv.moto, body)
            return self._reply(status, rbody, rheaders)
        with srv.change_lock:
            keys = sorted({(c.name, c.type) for c in changes})
            before = {k: srv.current(zone_id, *k) for k in keys}
            refused = delete_mismatch(changes, before)
            if refused:
                return self._reply(400, error_body("ChangeResourceRecordSets", "InvalidChangeBatch",
                                                   f"[{refused}]", json_protocol=False))
            status, rheaders, rbody = self._forward(srv.moto, body)
            if status != 200:
                return self._reply(status, rbody, rheaders)
            after = {k: srv.current(zone_id, *k) for k in keys}
        names = [{"name": n, "type": t, "old": _value(before[(n, t)]), "new": _value(after[(n, t)])}
                 for n, t in keys]
        stuck = srv.faults.take("ChangeResourceRecordSets", ("stuck_pending",)) is not None
        ch = srv.propagation.record(names, stuck=stuck)
        log.info("change %s accepted%s: %s", ch.id, " (stuck PENDING)" if stuck else "",
                 "; ".join(f"{n['name']} {n['type']} {n['old']} -> {n['new']}" for n in names))
        rbody = rewrite_change_info(rbody, change_id=ch.id, status="PENDING", submitted_utc=_iso(ch.submitted_wall))
        if srv.faults.take("ChangeResourceRecordSets", ("lost_reply",)) is not None:
            log.info("fault lost_reply on ChangeResourceRecordSets: change %s applied, no reply", ch.id)
            return self._hold()
        self._reply(status, rbody, rheaders)

    def _get_change(self, body: bytes) -> None:
        srv = self.server
        cid = change_id_of(self.path)
        status, rheaders, rbody = self._forward(srv.moto, body)
        st = srv.propagation.status(cid)
        if status == 200 and st is not None:
            ch = srv.propagation.get(cid)
            rbody = rewrite_change_info(rbody, change_id=cid, status=st,
                                        submitted_utc=_iso(ch.submitted_wall) if ch else None)
        if srv.faults.take("GetChange", ("lost_reply",)) is not None:
            return self._hold()
        self._reply(status, rbody, rheaders)

    def _lab(self, path: str, body: bytes) -> None:
        srv = self.server
        if path == "/_lab/status" and self.command == "GET":
            return self._json(200, srv.status())
        if path == "/_lab/route53/pending" and self.command == "GET":
            return self._json(200, {"propagation_s": srv.propagation.propagation_s,
                                    "pending": srv.propagation.pending()})
        if path == "/_lab/faults":
            if self.command == "GET":
                return self._json(200, {"faults": srv.faults.listing()})
            if self.command == "DELETE":
                return self._json(200, {"cleared": srv.faults.clear(), "unstuck": srv.propagation.unstick()})
            if self.command == "POST":
                try:
                    doc = json.loads(body or b"{}")
                    f = srv.faults.add(str(doc.get("op", "")), str(doc.get("kind", "")), int(doc.get("count", 1)))
                except (ValueError, TypeError) as exc:
                    return self._json(400, {"error": str(exc)})
                log.info("fault injected: %s", f.as_dict())
                return self._json(200, f.as_dict())
        self._json(404, {"error": f"no lab endpoint {self.command} {path}"})


def _value(cur: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if cur is None else {"values": cur["values"], "ttl": cur["ttl"]}


def ports(endpoint_url: str) -> tuple[str, int, int, int]:
    """(host, proxy port, moto port, DMS port) for a lab whose config says ``aws.endpoint_url``."""
    u = urlsplit(endpoint_url)
    port = u.port or 4566
    return u.hostname or "127.0.0.1", port, port + 1, port + 2


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--moto", required=True, help="moto server URL (the lab-internal port)")
    p.add_argument("--dms", default="", help="lab DMS service URL (used when it listens)")
    p.add_argument("--propagation-s", type=float, default=DEFAULT_PROPAGATION_S,
                   help="seconds a Route 53 change stays PENDING")
    p.add_argument("--lost-reply-hold-s", type=float, default=LOST_REPLY_HOLD_S)
    p.add_argument("--listen", required=True, help="host:port (the config's aws.endpoint_url)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    host, _, port = a.listen.rpartition(":")
    srv = LabAwsProxy((host, int(port)), a.moto, a.dms, a.propagation_s, a.lost_reply_hold_s)
    log.info("lab AWS proxy on %s -> moto %s, DMS %s, Route 53 propagation %.1fs", a.listen, a.moto,
             a.dms or "-", a.propagation_s)
    srv.serve_forever(poll_interval=0.5)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
