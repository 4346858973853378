"""aurora_cutover: prove a live MySQL -> Aurora migration is safe, cut over, and roll back — as pytest."""

__version__ = "0.1.0"
