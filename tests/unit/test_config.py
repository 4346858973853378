"""Config: every kind of bad input is one line naming the key; good input loads and fingerprints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from aurora_cutover.config import ConfigError, Secret, parse
from aurora_cutover.loading import load

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
[migration]
name = "t"
[source]
host = "10.0.0.1"
database = "app"
dns_name = "src.example"
[source.credentials]
user = "checker"
password_env = "SRC_PW"
[target]
host = "10.0.0.2"
database = "app"
dns_name = "tgt.example"
[target.credentials]
user_env = "TGT_USER"
password_env = "TGT_PW"
[dns]
zone_id = "Z123"
record_name = "db.example"
ttl = 5
"""
ENV = {"SRC_PW": "s3cr3t-src", "TGT_USER": "checker", "TGT_PW": "s3cr3t-tgt"}


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.toml"
    p.write_text(text)
    return p


def error_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as exc:
        load(write(tmp_path, text), env=ENV if env is None else env)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_good_config_loads_with_defaults_and_resolved_logins(tmp_path: Path) -> None:
    m = load(write(tmp_path, GOOD), env=ENV)
    assert m.source.port == 3306 and m.replication.method == "native"
    assert m.source.login.user == "checker" and m.source.login.password.reveal() == "s3cr3t-src"
    assert m.target.login.origin == "env:TGT_PW"
    assert m.tables.in_scope("students") and m.tables.in_scope("_migration_heartbeat") is not False


def test_secrets_never_show_in_repr_or_fingerprint(tmp_path: Path) -> None:
    m = load(write(tmp_path, GOOD), env=ENV)
    assert "s3cr3t" not in repr(m) and "s3cr3t" not in str(m.source.login)
    assert repr(Secret("x")) == "Secret('***')"
    other = load(write(tmp_path, GOOD), env={**ENV, "SRC_PW": "different"})
    assert m.fingerprint() == other.fingerprint()  # passwords are not part of the migration's identity


def test_fingerprint_changes_with_any_setting(tmp_path: Path) -> None:
    a = parse(GOOD)
    b = parse(GOOD.replace("ttl = 5", "ttl = 6"))
    assert a.fingerprint() != b.fingerprint()


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda t: t + "\n[bogus]\nx = 1\n", "bogus: unknown key"),
    (lambda t: t.replace('host = "10.0.0.1"', 'host = "10.0.0.1"\nhots = "x"'), "source.hots: unknown key"),
    (lambda t: t.replace('ttl = 5', 'ttl = "5"'), "dns.ttl: must be an integer"),
    (lambda t: t.replace('ttl = 5', 'ttl = true'), "dns.ttl: must be an integer"),
    (lambda t: t.replace('database = "app"\ndns_name = "src.example"', 'dns_name = "src.example"'),
     "source.database: missing"),
    (lambda t: t.replace('[dns]', '[replication]\nmethod = "dmz"\n[dns]'), "replication.method: must be one of"),
    (lambda t: t.replace('[dns]', '[replication]\nmethod = "dms"\n[dns]'), "replication.dms_task_arn: required"),
    (lambda t: t.replace('zone_id = "Z123"', ''), "dns.zone_id: missing"),
    (lambda t: t.replace('ttl = 5', 'ttl = 5\nresolver = "nope"'), "dns.resolver: must be"),
    (lambda t: t.replace('host = "10.0.0.1"', 'host = "10.0.0.1"\nport = 70000'), "source.port: must be 1-65535"),
    (lambda t: t.replace('host = "10.0.0.1"', 'host = "10.0.0.1"\ntls = "verify-ca"'),
     "source.ca_file: required"),
    (lambda t: t.replace('user = "checker"\npassword_env = "SRC_PW"', 'user = "checker"\npassword = "x"'),
     "source.credentials.password: unknown key"),
    (lambda t: t.replace('user = "checker"\npassword_env = "SRC_PW"', 'user = "checker"'),
     "source.credentials.password_env: missing"),
    (lambda t: t + "\n[thresholds]\nmax_lag_s = -1\n", "thresholds.max_lag_s: must be > 0"),
    (lambda t: t + "\n[thresholds]\nfull_sweep_h = 0\n", "thresholds.full_sweep_h: must be > 0"),
    (lambda t: t + "\n[cutover]\nfinal_verify = \"hashes\"\n", "cutover.final_verify: must be one of delta, counts"),
    (lambda t: t + "\n[tables]\ninclude = \"*\"\n", "tables.include: must be a list"),
    (lambda t: t.replace('host = "10.0.0.2"', 'host = "10.0.0.1"'), "target.host: source and target are the same"),
    (lambda t: t + "\n[[x]\n", "not valid TOML"),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, edit, expected: str) -> None:
    assert expected in error_of(tmp_path, edit(GOOD))


def test_missing_env_var_names_the_variable(tmp_path: Path) -> None:
    msg = error_of(tmp_path, GOOD, env={"SRC_PW": "x", "TGT_USER": "u"})
    assert msg == "target.credentials.password_env: environment variable TGT_PW is not set"


def test_unreadable_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load(tmp_path / "nope.toml", env=ENV)


SECRET_CFG = GOOD.replace('user = "checker"\npassword_env = "SRC_PW"', 'secret_id = "db/checker"')


@mock_aws
def test_secret_from_secrets_manager(tmp_path: Path) -> None:
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="db/checker", SecretString='{"username": "chk", "password": "from-sm"}')
    m = load(write(tmp_path, SECRET_CFG), env=ENV)
    assert m.source.login.user == "chk" and m.source.login.password.reveal() == "from-sm"
    assert m.source.login.origin == "secretsmanager:db/checker"


@mock_aws
def test_missing_secret_is_one_line_naming_the_key(tmp_path: Path) -> None:
    msg = error_of(tmp_path, SECRET_CFG)
    assert msg.startswith("source.credentials.secret_id: cannot read secret 'db/checker'")
    assert "ResourceNotFoundException" in msg


@mock_aws
def test_malformed_secret_does_not_leak_its_content(tmp_path: Path) -> None:
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(Name="db/checker",
                                                                          SecretString="hunter2-not-json")
    msg = error_of(tmp_path, SECRET_CFG)
    assert "not JSON" in msg and "hunter2" not in msg


def test_product_session_with_bad_config_exits_nonzero_with_one_line(tmp_path: Path) -> None:
    bad = write(tmp_path, GOOD.replace("ttl = 5", 'ttl = "five"'))
    out = subprocess.run([sys.executable, "-m", "pytest", "-m", "readiness", "--migration-config", str(bad),
                          "--reports-dir", str(tmp_path / "r")], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode != 0
    assert "migration config: dns.ttl: must be an integer, got 'five'" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def _with(text: str, section: str, line: str) -> str:
    return text.replace(f"[{section}]\n", f"[{section}]\n{line}\n", 1)


def test_native_reverse_path_from_aurora_8_to_mysql_57_is_refused_in_one_line():
    text = _with(_with(GOOD, "source", 'engine = "mysql-5.7"'), "target", 'engine = "aurora-mysql-8.0"')
    with pytest.raises(ConfigError) as exc:
        parse(text + '[replication]\nreverse_path = "native"\n')
    msg = str(exc.value)
    assert msg.startswith("replication.reverse_path:") and "aurora-mysql-8.0" in msg and "\n" not in msg
    parse(text + '[replication]\nreverse_path = "none"\n[cutover]\ntarget_parameter_group = "g"\n')  # accepted
    # the lab: MariaDB both sides (same version) may replicate back natively
    lab = _with(_with(GOOD, "source", 'engine = "mariadb-10.11"'), "target", 'engine = "mariadb-10.11"')
    parse(lab + '[replication]\nreverse_path = "native"\n')


def test_engine_spelling_is_checked():
    with pytest.raises(ConfigError, match=r"^source.engine: must look like"):
        parse(_with(GOOD, "source", 'engine = "MySQL 5.7"'))


def test_lab_section_is_optional_validated_and_not_part_of_the_fingerprint():
    a = parse(GOOD)
    b = parse(GOOD + '[lab]\ndir = "/tmp/elsewhere"\nparameter_apply_delay_s = 5.0\n')
    assert a.lab.dir == ".lab" and b.lab.parameter_apply_delay_s == 5.0
    assert a.fingerprint() == b.fingerprint()
    with pytest.raises(ConfigError, match=r"^lab.parameter_apply_delay_s"):
        parse(GOOD + "[lab]\nparameter_apply_delay_s = -1.0\n")
    with pytest.raises(ConfigError, match=r"^lab.nonsense: unknown key"):
        parse(GOOD + "[lab]\nnonsense = 1\n")


def test_admin_socket_is_gone():
    with pytest.raises(ConfigError, match=r"^source.admin_socket: unknown key"):
        parse(_with(GOOD, "source", 'admin_socket = "/tmp/x.sock"'))


def test_an_aurora_side_with_a_read_only_fence_needs_its_cluster_parameter_group():
    text = _with(_with(GOOD, "source", 'engine = "mysql-5.7"'), "target", 'engine = "aurora-mysql-8.0"')
    with pytest.raises(ConfigError, match=r"^cutover.target_parameter_group: required for aurora-mysql-8.0"):
        parse(text + '[replication]\nreverse_path = "none"\n')
    parse(text + '[replication]\nreverse_path = "none"\n[cutover]\ntarget_parameter_group = "g"\n')


def test_a_missing_ca_file_is_one_line_naming_the_key_and_the_resolved_path(tmp_path: Path) -> None:
    text = GOOD.replace('dns_name = "src.example"',
                        'dns_name = "src.example"\ntls = "verify-ca"\nca_file = "tls/ca.pem"')
    (tmp_path / "conf").mkdir()
    cfg = tmp_path / "conf" / "migration.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(cfg, env=ENV)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("source.ca_file: ") and str(tmp_path / "conf" / "tls" / "ca.pem") in msg
    (tmp_path / "conf" / "tls").mkdir()
    (tmp_path / "conf" / "tls" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    assert load(cfg, env=ENV).source.ca_file == str(tmp_path / "conf" / "tls" / "ca.pem")  # relative to the config


def test_a_variant_built_with_dataclasses_replace_round_trips_through_to_toml():
    import dataclasses

    from aurora_cutover.config import to_toml

    m = parse(Path("migration.toml").read_text())
    variant = dataclasses.replace(m, replication=dataclasses.replace(m.replication, reverse_path="none"),
                                  cutover=dataclasses.replace(m.cutover, fence=()))
    back = parse(to_toml(variant))
    assert back.replication.reverse_path == "none" and back.cutover.fence == ()
    assert dataclasses.replace(back, path=m.path) == variant


def test_a_check_whose_subject_is_not_configured_is_named_not_applicable():
    """The plugin's needs_config rule (set aside and listed, never passed), read off a collected item's markers."""
    import dataclasses

    from aurora_cutover.plugin import not_configured

    class Item:
        def __init__(self, *marks):
            self.marks = marks

        def iter_markers(self, name):
            return [mk for mk in self.marks if mk.name == name]

    m = parse(Path("migration.toml").read_text())
    bare = dataclasses.replace(m, target=dataclasses.replace(m.target, rds_id=""),
                               cutover=dataclasses.replace(m.cutover, fence=("lock_accounts",)))
    item = Item(pytest.mark.needs_config("target.rds_id").mark,
                pytest.mark.needs_config(**{"cutover.fence": "read_only"}).mark)
    assert not_configured(item, m) == []
    assert not_configured(item, bare) == ["target.rds_id is not set", "cutover.fence does not include 'read_only'"]
