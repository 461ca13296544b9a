"""Dataset readers, checks and the canonical index."""
