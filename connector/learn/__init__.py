"""Learned scoring: point-in-time features, training and back-test (offline)."""
