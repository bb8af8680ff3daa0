"""Exports (CSV, JSONL, Parquet, backup), imports (CSV, backup restore) and replay from the raw events."""

from api.exports.controllers import ExportController, ImportController, ReplayController
from api.exports.service import ExportService, replay_session

__all__ = ["ExportController", "ExportService", "ImportController", "ReplayController", "replay_session"]
