"""Tilt detection: features (shared/tilt_features.py) → ONNX scorer → alert policy (shared/tilt_policy.py)."""
