"""The action journal on DynamoDB (moto): one holder at a time, a dead holder's lease runs out, a run that was
taken over cannot write again, and what the next run reads is what the dead one journaled."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from aurora_cutover.config import parse
from aurora_cutover.cutover import journal

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env():
    with mock_aws():
        m = parse((ROOT / "migration.toml").read_text())
        m = dataclasses.replace(m, journal=dataclasses.replace(m.journal, lease_s=3.0))
        client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
        assert journal.create_table(client, m.journal.table) and not journal.create_table(client, m.journal.table)
        yield m, client


def test_a_live_holder_refuses_the_next_run_naming_it(env):
    m, client = env
    j = journal.Journal.acquire(client, m, "cutover", "run-a")
    j.step("fence")
    with pytest.raises(journal.JournalHeld, match=r"cutover run run-a .*running, step fence"):
        journal.Journal.acquire(client, m, "rollback", "run-b")
    j.finish("done")
    k = journal.Journal.acquire(client, m, "rollback", "run-b")  # a finished run frees it
    assert k.token == j.token + 1 and k.previous is not None and k.previous.state == "done"


def test_a_dead_holder_is_taken_over_after_its_lease_and_its_journal_is_what_the_next_run_reads(env):
    m, client = env
    dead = journal.Journal.acquire(client, m, "cutover", "run-a")
    dead.step("stop_forward")
    dead.save({"target_was_read_only": True, "fenced_at": 12.5, "lock": object(), "reverse_from": "binlog.1:4"},
              ["preflight", "recheck", "fence", "drain"], "stop_forward")
    nxt = journal.Journal.acquire(client, m, "cutover", "run-b", wait_s=m.journal.lease_s + 2)  # no renewal: dies
    prev = nxt.previous
    assert prev is not None and prev.crashed and prev.run_id == "run-a" and prev.step == "stop_forward"
    assert prev.steps_done == ("preflight", "recheck", "fence", "drain")
    # monotonic clock readings and live objects do not cross processes
    assert prev.facts == {"target_was_read_only": True, "reverse_from": "binlog.1:4"}
    with pytest.raises(journal.Superseded):  # the dead run wakes up: its next write fails, it stops
        dead.step("seal")
    with pytest.raises(journal.Superseded):
        dead.save({}, [], "")
    assert not dead.finish("undone")


def test_a_renewed_lease_keeps_the_journal(env):
    m, client = env
    j = journal.Journal.acquire(client, m, "cutover", "run-a", new_client=lambda: client)
    try:
        time.sleep(m.journal.lease_s + 1)  # three renewals in that time
        with pytest.raises(journal.JournalHeld):
            journal.Journal.acquire(client, m, "cutover", "run-b")
    finally:
        j.close()


def test_a_missing_table_is_one_line_naming_it(env):
    m, client = env
    m2 = dataclasses.replace(m, journal=dataclasses.replace(m.journal, table="nope"))
    with pytest.raises(journal.JournalError, match=r"^journal nope: get_item: ResourceNotFoundException$"):
        journal.Journal.acquire(client, m2, "cutover", "run-a")


def test_confirm_costs_nothing_within_the_lease_and_stops_a_run_taken_over_while_it_slept(env):
    m, client = env
    sleeper = journal.Journal.acquire(client, m, "cutover", "run-a")
    before = journal.read(client, m.journal.table, m.migration.name)
    sleeper.confirm()  # within its lease: no write
    assert journal.read(client, m.journal.table, m.migration.name) == before
    nxt = journal.Journal.acquire(client, m, "cutover", "run-b", wait_s=m.journal.lease_s + 2)
    with pytest.raises(journal.Superseded, match="another run took over"):
        sleeper.confirm()  # past its lease: one conditional renewal, refused on the token
    assert journal.read(client, m.journal.table, m.migration.name).run_id == nxt.run_id


def test_confirm_past_the_lease_renews_it_when_nobody_took_over(env):
    m, client = env
    j = journal.Journal.acquire(client, m, "cutover", "run-a")
    time.sleep(m.journal.lease_s * 2 / 3 + 0.1)
    j.confirm()
    rec = journal.read(client, m.journal.table, m.migration.name)
    assert rec is not None and rec.run_id == "run-a" and rec.lease_until > time.time() + m.journal.lease_s - 1
