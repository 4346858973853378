"""Read the switch record from Route 53 (the lab's moto or real AWS).

    >>> rec = current(route53, migration.dns)
    >>> rec.value, rec.ttl
    ('source.lab.eduphoria.ex', 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aurora_cutover.config import Dns


class RecordError(Exception):
    """The zone or the record cannot be found / read; the message names which."""


@dataclass(frozen=True)
class Record:
    zone_id: str
    name: str
    type: str
    value: str
    ttl: int

    def as_change(self, action: str) -> dict[str, Any]:
        """This record as a Route 53 change (DELETE must match value and TTL exactly: the CAS)."""
        return {"Action": action, "ResourceRecordSet": {
            "Name": self.name, "Type": self.type, "TTL": self.ttl, "ResourceRecords": [{"Value": self.value}]}}


def normalise(name: str) -> str:
    return name.rstrip(".").lower()


def zone_id(route53: Any, dns: Dns) -> str:
    if dns.zone_id:
        return dns.zone_id.split("/")[-1]
    zones = route53.list_hosted_zones_by_name(DNSName=dns.zone_name)["HostedZones"]
    found = [z["Id"].split("/")[-1] for z in zones if normalise(z["Name"]) == normalise(dns.zone_name)]
    if len(found) != 1:
        raise RecordError(f"dns.zone_name: {len(found)} hosted zones named {dns.zone_name!r} (need exactly 1)")
    return found[0]


def current(route53: Any, dns: Dns) -> Record:
    zid = zone_id(route53, dns)
    name = normalise(dns.record_name)
    rrs = route53.list_resource_record_sets(HostedZoneId=zid, StartRecordName=name, MaxItems="10")
    for rr in rrs["ResourceRecordSets"]:
        if normalise(rr["Name"]) != name:
            continue
        if rr["Type"] != "CNAME":
            raise RecordError(f"{name}: is a {rr['Type']} record, the switch must be a CNAME")
        if "AliasTarget" in rr or len(rr.get("ResourceRecords", [])) != 1:
            raise RecordError(f"{name}: must be a plain CNAME with one value")
        return Record(zid, name, "CNAME", normalise(rr["ResourceRecords"][0]["Value"]), int(rr["TTL"]))
    raise RecordError(f"{name}: no such record in hosted zone {zid}")
