"""Pure SQL builders: they return strings and parameters and never touch a connection."""
