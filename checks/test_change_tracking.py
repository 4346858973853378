"""Change tracking's preconditions (docs/change-tracking.md): the checker can read each side's binlog as a
replica does, and the target's binlog — read by any reverse path and by the tracker for writes that did not
come from the source — is row-based with full images. (The source's binlog format: test_guardrails.py.)
"""

import pytest

from aurora_cutover.guardrails import probes
from aurora_cutover.replication import changes

pytestmark = pytest.mark.readiness


def test_target_binlog_is_row_based_with_full_images_for_the_reverse_path(migration, servers, evidence):
    if migration.replication.reverse_path == "none":
        pytest.skip("no reverse path configured (replication.reverse_path = 'none')")
    log_bin, fmt, image = probes.binlog_settings(servers.conn("target"))
    evidence.record("reverse path", migration.replication.reverse_path)
    evidence.record("target binlog", f"log_bin {log_bin}, binlog_format {fmt}, binlog_row_image {image}")
    problems = changes.target_binlog_problems(log_bin, fmt, image)
    assert not problems, ("target: " + "; ".join(problems) + f" — the reverse path "
                          f"({migration.replication.reverse_path}) and change tracking read every row from it")


@pytest.mark.parametrize("side", ["source", "target"])
def test_checker_login_may_read_the_binlog_of_each_side(side, servers, evidence):
    lacks = changes.read_access_gaps(servers.conn(side))
    evidence.record("lacks", lacks or "nothing")
    assert not lacks, (f"{side}: the checker login lacks " + "; ".join(lacks)
                       + " — change tracking cannot read this side's binlog (grant set: docs/accounts.md)")
