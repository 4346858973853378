"""Schema drift between source and target: snapshot (information_schema), normalise, compare, classify."""
