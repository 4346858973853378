"""A DNS server that answers from the (emulated) Route 53 zones — every answer is read live, so a
``change_resource_record_sets`` made through boto3 is what the very next query shows.

    python -m aurora_cutover.lab.dns_server --port 10053 --aws-endpoint http://127.0.0.1:4566 \
        [--os-address 127.0.0.153]   # also port 53 there, for the OS resolver (lab/osdns.py)

CNAMEs are chased inside the hosted zones (like a recursive resolver would), with the TTL of each
record as stored in Route 53. While a change to a name is PENDING (the lab's AWS proxy lists those at
``/_lab/route53/pending``), each query gets the old or the new value at random — what clients see while
some of Route 53's authoritative servers have the change and some do not. After INSYNC: only the new one.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
from dnslib import CNAME, QTYPE, RCODE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

log = logging.getLogger("lab-dns")
RDATA = {"A": A, "CNAME": CNAME, "TXT": TXT}


Pending = dict[tuple[str, str], dict[str, Any]]


def pending_from(endpoint: str) -> Callable[[], Pending]:
    """Reads the AWS proxy's list of names still propagating; {} from a plain emulator without the proxy."""
    def read() -> Pending:
        try:
            with urllib.request.urlopen(f"{endpoint}/_lab/route53/pending", timeout=2) as r:
                doc = json.loads(r.read())
        except urllib.error.HTTPError:
            return {}
        return {(p["name"], p["type"]): p for p in doc.get("pending", [])}
    return read


class Route53Resolver(BaseResolver):
    def __init__(self, route53: Any, pending: Callable[[], Pending] = dict, rng: random.Random | None = None) -> None:
        self.r53 = route53
        self.pending = pending
        self.rng = rng or random.Random()

    def _zones(self) -> list[tuple[str, str]]:
        zones = self.r53.list_hosted_zones()["HostedZones"]
        return [(z["Name"].rstrip(".").lower(), z["Id"].split("/")[-1]) for z in zones]

    def _lookup(self, name: str, rtype: str, pending: Pending | None = None) -> dict[str, Any] | None:
        name = name.rstrip(".").lower()
        p = (pending or {}).get((name, rtype))
        if p is not None and self.rng.random() < 0.5:  # this query reached a server without the change yet
            old = p["old"]
            if old is None:
                return None
            return {"Name": name, "Type": rtype, "TTL": old["ttl"], "ResourceRecords": [{"Value": v}
                                                                                       for v in old["values"]]}
        for zname, zid in self._zones():
            if name != zname and not name.endswith("." + zname):
                continue
            rrs = self.r53.list_resource_record_sets(HostedZoneId=zid, StartRecordName=name,
                                                     StartRecordType=rtype, MaxItems="5")
            for rr in rrs["ResourceRecordSets"]:
                if rr["Name"].rstrip(".").lower() == name and rr["Type"] == rtype:
                    return rr
        return None

    def answer(self, qname: str, qtype: str) -> tuple[list[RR], bool]:
        """Pure-ish core: records for (qname, qtype), chasing CNAMEs; second value = name exists."""
        answers: list[RR] = []
        name, found = qname, False
        pending = self.pending()
        for _ in range(8):  # bounded CNAME chain
            rr = self._lookup(name, qtype, pending)
            if rr is None and qtype != "CNAME":
                rr = self._lookup(name, "CNAME", pending)
            if rr is None:
                break
            found = True
            for value in rr.get("ResourceRecords", []):
                v = value["Value"]
                rdata = TXT(v.strip('"')) if rr["Type"] == "TXT" else RDATA[rr["Type"]](v)
                answers.append(RR(name, getattr(QTYPE, rr["Type"]), rdata=rdata, ttl=int(rr["TTL"])))
            if rr["Type"] != "CNAME" or qtype == "CNAME":
                break
            name = rr["ResourceRecords"][0]["Value"]
        return answers, found

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        qname, qtype = str(request.q.qname), QTYPE[request.q.qtype]
        try:
            answers, found = self.answer(qname, qtype)
        except Exception as exc:  # emulator down: SERVFAIL, never a stale or invented answer
            log.warning("lookup %s %s failed: %s", qname, qtype, exc)
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        for rr in answers:
            reply.add_answer(rr)
        if not found:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--port", type=int, default=10053)
    p.add_argument("--aws-endpoint", default="http://127.0.0.1:4566")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--os-address", default="",
                   help="also answer on port 53 of this loopback address, for clients that resolve through the OS "
                        "(lab/osdns.py)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    r53 = boto3.client("route53", endpoint_url=a.aws_endpoint, region_name=a.region,
                       aws_access_key_id="lab", aws_secret_access_key="lab")
    resolver = Route53Resolver(r53, pending_from(a.aws_endpoint))
    quiet = DNSLogger(log="-request,-reply,-truncated,-data", prefix=False)
    listen = [(a.address, a.port)] + ([(a.os_address, 53)] if a.os_address else [])
    servers = [DNSServer(resolver, port=port, address=host, tcp=tcp, logger=quiet)
               for host, port in listen for tcp in (False, True)]
    for s in servers:
        s.start_thread()
    log.info("lab DNS on %s answering from Route 53 at %s", ", ".join(f"{h}:{p}" for h, p in listen),
             a.aws_endpoint)
    while all(s.isAlive() for s in servers):
        time.sleep(1)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
