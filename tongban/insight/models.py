"""insight's own tables (the figures it computes are read from the other contexts)."""
