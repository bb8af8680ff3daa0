"""The web side: ReactPy screens that talk to the API over HTTP, plus the offline shell, manifest and service worker."""

from web.app import create_web_app
from web.mount import web_routes

__all__ = ["create_web_app", "web_routes"]
