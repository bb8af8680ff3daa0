"""The Litestar HTTP API: batched event ingest, live sessions, stats, push and devices."""

from api.app import create_app

__all__ = ["create_app"]
