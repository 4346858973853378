"""The local lab: a real MariaDB source/target pair with binlog replication, moto as the AWS API,
and a DNS server answering from the emulated Route 53 zone. ``python -m aurora_cutover.lab up``."""
