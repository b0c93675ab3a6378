"""Simulation: voter models (and, with the hub, virtual keypads and receivers)."""
