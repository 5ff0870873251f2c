"""Reconciliation audit: rules (pure) and their collection."""
