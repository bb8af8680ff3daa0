"""Batched event ingest: POST /api/v1/events."""
