"""The owner's overview: live sessions, the fan-out's lag and dead letters, the workers' counts, users and devices."""

from api.admin.controllers import AdminController

__all__ = ["AdminController"]
