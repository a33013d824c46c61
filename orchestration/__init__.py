"""Dagster wiring of the stages. Importing this package loads nothing heavy; ``definitions`` does."""
