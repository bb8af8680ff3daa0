"""Device dependencies: the device service over the app's Redis client."""

from __future__ import annotations

from litestar.di import NamedDependency
from redis.asyncio import Redis

from api.devices.service import DeviceService


def provide_devices(redis: NamedDependency[Redis]) -> DeviceService:
    return DeviceService(redis)
