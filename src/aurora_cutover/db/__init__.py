"""Connections to the source and target servers, and what kind of server each one is."""

from aurora_cutover.db.connect import ConnectError, Side, alive, connect, describe_tls
from aurora_cutover.db.flavour import Flavour, detect_flavour, parse_flavour

__all__ = ["ConnectError", "Flavour", "Side", "alive", "connect", "describe_tls", "detect_flavour", "parse_flavour"]
