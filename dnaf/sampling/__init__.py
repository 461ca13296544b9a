"""Sampling the test pairs in deterministic, resumable shards."""
