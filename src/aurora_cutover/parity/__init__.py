"""Data parity between source and target: exact counts and chunked server-side checksums under live CDC.

    >>> from aurora_cutover.parity import Parity
    >>> with Parity(m) as p:
    ...     p.count_rows("users").ok, p.checksum_table("users").summary()

See docs/data-parity.md for the hash rule, the canonical form and how to read a red result.
"""

from aurora_cutover.parity.chunker import ChunkerState
from aurora_cutover.parity.engine import Parity
from aurora_cutover.parity.results import (
    DIFFERENT,
    DUPLICATE,
    EXTRA,
    MISSING,
    ChunkDiff,
    CountResult,
    RowDiff,
    TableResult,
)
from aurora_cutover.parity.verdict import ChunkVerdict, Position

__all__ = ["DIFFERENT", "DUPLICATE", "EXTRA", "MISSING", "ChunkDiff", "ChunkVerdict", "ChunkerState", "CountResult",
           "Parity", "Position", "RowDiff", "TableResult"]
