"""Both databases answer with the configured logins; TLS state, flavour and version are recorded."""

import pytest

from aurora_cutover.db.probe import identify

pytestmark = pytest.mark.readiness


@pytest.mark.parametrize("side", ["source", "target"])
def test_server_answers_with_the_configured_login(side, migration, servers, evidence):
    ep = migration.endpoint(side)
    ident = identify(servers.conn(side), ep)
    evidence.record("address", f"{ep.host}:{ep.port}")
    for key, value in ident.facts().items():
        evidence.record(key, value)
    assert ident.server_id > 0, f"{side}: server_id is 0 — replication cannot identify this server"
    if ep.tls not in ("disabled", "preferred"):
        assert ident.tls.enabled, f"{side}: tls = {ep.tls!r} configured but the session is not encrypted"
