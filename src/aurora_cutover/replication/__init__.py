"""How rows get from source to target: heartbeat lag, barriers, native replica status, DMS."""
