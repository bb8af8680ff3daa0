"""Devices: pair a phone with a one-time code, list a user's devices, revoke one."""

from api.devices.controllers import DeviceController

__all__ = ["DeviceController"]
