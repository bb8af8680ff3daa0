"""Web Push: the VAPID public key and each user's push subscriptions."""

from api.push.controllers import PushController
from api.push.deps import provide_push_book

__all__ = ["PushController", "provide_push_book"]
