"""Web Push delivery: encrypt (RFC 8291), sign (RFC 8292 VAPID), POST to the push service (RFC 8030), classify.

The ``webpush`` package does the aes128gcm encryption. Its VAPID header is not used: it drops a non-default port
from ``aud`` (the origin of ``https://push.example:8443/…`` is not ``https://push.example``) and always prefixes
``sub`` with ``mailto:``, which breaks an ``https:`` subject and doubles ours. ``vapid_authorization`` signs the
ES256 JWT with ``cryptography`` instead. Keys, subscription validation and the subscription book live in
``adapters.push`` (keys, subscription book) and ``shared.push`` (subscription rules) because the API uses them too.

Outcome of one send (``classify``)::

    DELIVERED   2xx (201 Created, 202 Accepted)
    GONE        404, 410          the subscription is dead: deliver_alert deletes it
    RETRY       429, 5xx, timeout, connection error: try again later, honouring Retry-After
    FAILED      any other status  (bad VAPID, payload too large, redirect, …): logged, never retried
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import json
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

import httpx
import msgspec
import stamina
from arq.worker import Retry
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from redis.asyncio import Redis
from webpush import WebPush
from webpush.types import WebPushSubscription

from adapters import keys
from adapters.metrics import PUSHES, Tally
from adapters.push import PushBook, VapidKeys
from shared.errors import InvalidInput
from shared.money import format_money
from shared.push import PushSubscription, b64url_encode
from shared.settings import Settings
from shared.tilt_policy import Alert, AlertKind

log = logging.getLogger(__name__)

Urgency = Literal["very-low", "low", "normal", "high"]  # RFC 8030 §5.3

VAPID_LIFETIME_S = 12 * 3600  # RFC 8292 §2: exp at most 24 h ahead; 12 h leaves room for clock skew
MAX_PAYLOAD_BYTES = 3993  # RFC 8291 §4: the largest plaintext that fits one 4096-byte aes128gcm record
ALERT_TTL_S = 15 * 60  # a break suggestion older than a quarter of an hour describes a different moment
_DEFAULT_PORTS = {"https": 443, "http": 80}


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    GONE = "gone"
    RETRY = "retry"
    FAILED = "failed"


class SendResult(msgspec.Struct, frozen=True):
    """What happened to one message for one subscription."""

    endpoint: str
    outcome: Outcome
    status: int | None = None  # None when no response came (timeout, connection error)
    retry_after_s: float | None = None  # from Retry-After on 429/503, when given
    detail: str = ""


# --- VAPID (RFC 8292) ------------------------------------------------------------------------------------------


def origin(endpoint: str) -> str:
    """The ASCII origin of a URL (RFC 6454): scheme, host and the port unless it is the scheme's default."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    suffix = "" if port is None or port == _DEFAULT_PORTS.get(parts.scheme) else f":{port}"
    return f"{parts.scheme}://{host}{suffix}"


def vapid_jwt(vapid: VapidKeys, audience: str, subject: str, expires_at: int) -> str:
    """An ES256 JWT with the claims RFC 8292 §2 asks for: ``aud``, ``exp`` and ``sub``."""
    header = b64url_encode(b'{"typ":"JWT","alg":"ES256"}')
    claims = b64url_encode(json.dumps({"aud": audience, "exp": expires_at, "sub": subject}).encode())
    signing_input = f"{header}.{claims}".encode("ascii")
    der = vapid.private_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    # JWS wants the raw 64-byte r‖s (RFC 7518 §3.4), not the DER that cryptography returns.
    signature = b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return f"{header}.{claims}.{signature}"


def vapid_authorization(
    vapid: VapidKeys, endpoint: str, subject: str, *, now: float | None = None, lifetime_s: int = VAPID_LIFETIME_S
) -> str:
    """The ``Authorization: vapid t=<jwt>, k=<public key>`` header for a request to ``endpoint`` (RFC 8292 §3)."""
    if not 0 < lifetime_s <= 24 * 3600:
        raise ValueError(f"lifetime_s={lifetime_s}: a VAPID token may live at most 24 h (RFC 8292 §2)")
    expires_at = int(time.time() if now is None else now) + lifetime_s
    token = vapid_jwt(vapid, origin(endpoint), subject, expires_at)
    return f"vapid t={token}, k={vapid.application_server_key}"


# --- sending ---------------------------------------------------------------------------------------------------


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse Retry-After (delta-seconds or an HTTP date, RFC 9110 §10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify(endpoint: str, status: int, retry_after: str | None = None, detail: str = "") -> SendResult:
    """Map a push service's answer to what the caller should do (see the module docstring)."""
    if 200 <= status < 300:
        return SendResult(endpoint, Outcome.DELIVERED, status)
    if status in (404, 410):
        return SendResult(endpoint, Outcome.GONE, status, detail=detail)
    if status == 429 or status >= 500:
        return SendResult(endpoint, Outcome.RETRY, status, retry_after_seconds(retry_after), detail)
    return SendResult(endpoint, Outcome.FAILED, status, detail=detail)


class PushSender:
    """Encrypts and POSTs push messages; one ``httpx.AsyncClient`` for all sends. Use as an async context manager.

    ``send`` never raises for what a push service or the network does: every answer, timeout and connection
    error becomes a ``SendResult``.
    """

    def __init__(
        self,
        vapid: VapidKeys,
        subject: str,
        *,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Args:
        vapid: the application server's keys.
        subject: the ``sub`` claim, a ``mailto:`` or ``https:`` contact (settings.vapid_subject).
        timeout_s: the longest one send may take, connection to last byte (settings.push_timeout_s).
        transport: an httpx transport; tests pass ``httpx.MockTransport``.
        """
        if not subject.startswith(("mailto:", "https:")):
            raise ValueError(f"VAPID subject {subject!r} must be a mailto: or https: URI (RFC 8292 §2.1)")
        self.vapid = vapid
        self.subject = subject
        self.timeout_s = timeout_s
        self._webpush = WebPush(private_key=vapid.private_pem, public_key=vapid.public_pem, subscriber="unused")
        # No redirects: an endpoint that redirects is not a push service, and following would widen what a
        # registered URL can make this server fetch.
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout_s, follow_redirects=False)

    @classmethod
    def from_settings(
        cls, vapid: VapidKeys, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> PushSender:
        return cls(vapid, settings.vapid_subject, timeout_s=settings.push_timeout_s, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def encrypt(self, sub: PushSubscription, payload: bytes) -> bytes:
        """The aes128gcm body for ``sub`` (RFC 8291), made by the ``webpush`` package.

        Raises:
            InvalidInput: the payload is larger than one record may carry.
        """
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise InvalidInput(f"push payload is {len(payload)} bytes; at most {MAX_PAYLOAD_BYTES} fit (RFC 8291 §4)")
        target = WebPushSubscription.model_validate({"endpoint": sub.endpoint, "keys": msgspec.to_builtins(sub.keys)})
        # get() also signs a VAPID header of its own, which is dropped (see the module docstring).
        encrypted: bytes = self._webpush.get(payload, target).encrypted
        return encrypted

    def headers(self, endpoint: str, *, ttl_s: int, urgency: Urgency, topic: str | None = None) -> dict[str, str]:
        """The request headers of RFC 8030 §5 and RFC 8292 §3 for one message."""
        headers = {
            "Authorization": vapid_authorization(self.vapid, endpoint, self.subject),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(max(0, ttl_s)),
            "Urgency": urgency,
        }
        if topic is not None:
            headers["Topic"] = topic
        return headers

    async def send(
        self,
        sub: PushSubscription,
        payload: bytes,
        *,
        ttl_s: int = ALERT_TTL_S,
        urgency: Urgency = "normal",
        topic: str | None = None,
    ) -> SendResult:
        """Encrypt ``payload`` for ``sub`` and POST it; return how it went, within ``timeout_s``.

        Raises:
            InvalidInput: the payload is too large (a bug of the caller, not of the subscription).
        """
        body = self.encrypt(sub, payload)
        headers = self.headers(sub.endpoint, ttl_s=ttl_s, urgency=urgency, topic=topic)
        try:
            # httpx's timeout bounds each phase; this bounds the whole exchange, so a service that answers one
            # byte a second cannot hold a worker either.
            async with asyncio.timeout(self.timeout_s):
                async with self._client.stream("POST", sub.endpoint, content=body, headers=headers) as response:
                    detail = await _read_some(response, 300)
        except (TimeoutError, httpx.TimeoutException):
            return SendResult(sub.endpoint, Outcome.RETRY, detail=f"no answer within {self.timeout_s:g} s")
        except httpx.TransportError as exc:
            return SendResult(sub.endpoint, Outcome.RETRY, detail=f"{type(exc).__name__}: {exc}")
        return classify(sub.endpoint, response.status_code, response.headers.get("retry-after"), detail)


async def _read_some(response: httpx.Response, limit: int) -> str:
    """Up to ``limit`` bytes of the body, for logs; endpoints are user-supplied, so never read a body whole."""
    chunks = bytearray()
    async for chunk in response.aiter_bytes():
        chunks += chunk
        if len(chunks) >= limit:
            break
    return chunks[:limit].decode("utf-8", "replace")


# --- alerts ----------------------------------------------------------------------------------------------------


class AlertAction(msgspec.Struct, frozen=True):
    action: Literal["break", "fine"]
    title: str


ALERT_ACTIONS = (AlertAction("break", "Take a break"), AlertAction("fine", "I'm fine"))


class AlertPayload(msgspec.Struct, frozen=True, kw_only=True):
    """The JSON the service worker receives: what to show and where a tap leads."""

    kind: AlertKind
    title: str
    body: str
    session_id: str
    score: float
    reasons: list[str]
    actions: list[AlertAction] = msgspec.field(default_factory=lambda: list(ALERT_ACTIONS))
    url: str

    @property
    def urgency(self) -> Urgency:
        # A break suggestion should wake the phone; a reality check can wait for the next natural wake-up.
        return "normal" if self.kind == "reality_check" else "high"

    @property
    def topic(self) -> str:
        """RFC 8030 §5.4: a newer alert of the same kind for the session replaces one not yet delivered."""
        return b64url_encode(hashlib.sha256(f"{self.kind}:{self.session_id}".encode()).digest()[:24])


def alert_payload(alert: Alert) -> AlertPayload:
    """Turn a tilt alert into the notification the player sees."""
    reasons = alert.reasons[:3]
    why = f": {'; '.join(reasons)}" if reasons else ""
    if alert.kind == "break_suggestion":
        title = "Time for a break?"
        body = f"Your play shows signs of tilt{why}. A few minutes away from the table helps."
    elif alert.kind == "start_check":
        title = "Before you play this one"
        body = f"This session starts with signs of tilt{why}. Is now the right time?"
    elif alert.kind == "pause_suggestion":
        title = "A break before the next session?"
        body = f"That session ended with signs of tilt{why}. A pause before the next one helps."
    else:
        title = "Reality check"
        body = _reality_text(alert)
    return AlertPayload(
        kind=alert.kind,
        title=title,
        body=body,
        session_id=alert.session_id,
        score=round(alert.score, 3),
        reasons=reasons,
        url=f"/app/live/{alert.session_id}",
    )


def _reality_text(alert: Alert) -> str:
    reality = alert.reality
    if reality is None:
        return "Take a moment to check how this session is going."
    hours, minutes = divmod(reality.played_minutes, 60)
    parts = [f"{hours} h {minutes} min played" if hours else f"{minutes} min played"]
    if reality.currency:
        parts.append(f"net {format_money(reality.net, reality.currency)}")
        if reality.hourly is not None:
            usual = reality.baseline_hourly
            tail = f" (usually {format_money(usual, reality.currency)}/h)" if usual is not None else ""
            parts.append(f"{format_money(reality.hourly, reality.currency)}/h{tail}")
    return " · ".join(parts)


# --- delivery to every device of a user ------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How ``deliver_alert`` retries a retryable send before leaving it to the caller (through ``stamina``)."""

    attempts: int = 3
    base_s: float = 0.5  # first backoff; doubles each time, with jitter
    cap_s: float = 8.0
    max_wait_s: float = 30.0  # a Retry-After longer than this is not waited for here: the result stays pending

    def backoff(self, exc: Exception) -> bool | float:
        """stamina's backoff hook: the service's Retry-After when it gave one (False, not retried here, when that is
        longer than ``max_wait_s``), else True for the exponential backoff; False for anything but a busy service."""
        if not isinstance(exc, StillBusy):
            return False
        after = exc.result.retry_after_s
        if after is None:
            return True
        return after if after <= self.max_wait_s else False


class StillBusy(Exception):
    """A send the service answered "retry later" (429, 5xx, timeout, connection error)."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.detail or f"status {result.status}")
        self.result = result


class DeliveryReport(msgspec.Struct, frozen=True):
    """One alert's fate on each of the user's subscriptions."""

    user_id: str
    results: list[SendResult]
    retried: int = 0  # sends answered "retry later" and sent again within this delivery

    def endpoints(self, outcome: Outcome) -> list[str]:
        return [r.endpoint for r in self.results if r.outcome is outcome]

    @property
    def delivered(self) -> list[str]:
        return self.endpoints(Outcome.DELIVERED)

    @property
    def gone(self) -> list[str]:
        """Endpoints found dead and deleted from the book."""
        return self.endpoints(Outcome.GONE)

    @property
    def pending(self) -> list[str]:
        """Endpoints still retryable after the retries: the caller may try them again later."""
        return self.endpoints(Outcome.RETRY)

    @property
    def failed(self) -> list[str]:
        return self.endpoints(Outcome.FAILED)


async def deliver_alert(
    book: PushBook,
    sender: PushSender,
    user_id: str,
    payload: AlertPayload,
    *,
    endpoints: Collection[str] | None = None,
    skip: Collection[str] = (),
    retry: RetryPolicy = RetryPolicy(),  # frozen, so one shared default is safe
) -> DeliveryReport:
    """Send ``payload`` to every subscription of the user, at once; never raises for one bad subscription.

    Gone subscriptions (404/410) are deleted from the book. Retryable ones are retried up to
    ``retry.attempts`` times with backoff (or the service's Retry-After); what is still retryable after that is
    reported ``pending``. Other failures are logged and reported ``failed``.

    Args:
        endpoints: only these of the user's subscriptions; default all.
        skip: not these (the ones an earlier round of the same job settled).
    """
    subs = [sub for sub in await book.list(user_id) if sub.endpoint not in skip]
    if endpoints is not None:
        wanted = set(endpoints)
        subs = [sub for sub in subs if sub.endpoint in wanted]
    body = msgspec.json.encode(payload)
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(_deliver_one(sender, sub, body, payload, retry)) for sub in subs]
    results = [task.result()[0] for task in tasks]
    for result in results:
        if result.outcome is Outcome.GONE:
            try:
                await book.remove(user_id, result.endpoint)
            except Exception:
                # The next alert will find it gone again; one store hiccup must not undo the deliveries.
                log.exception("could not delete gone push subscription of user %s", user_id)
        elif result.outcome is Outcome.FAILED:
            log.warning(
                "push to %s for user %s failed permanently: status %s %s",
                origin(result.endpoint),
                user_id,
                result.status,
                result.detail,
            )
    return DeliveryReport(user_id=user_id, results=results, retried=sum(task.result()[1] for task in tasks))


async def _deliver_one(
    sender: PushSender, sub: PushSubscription, body: bytes, payload: AlertPayload, retry: RetryPolicy
) -> tuple[SendResult, int]:
    """The last result for one subscription, and how many sends before it were retried."""
    sends = 0
    try:
        async for attempt in stamina.retry_context(
            on=retry.backoff,
            attempts=retry.attempts,
            timeout=None,
            wait_initial=retry.base_s,
            wait_max=retry.cap_s,
            wait_jitter=retry.base_s / 2,
        ):
            with attempt:
                sends += 1
                result = await sender.send(sub, body, urgency=payload.urgency, topic=payload.topic)
                if result.outcome is Outcome.RETRY:
                    raise StillBusy(result)
                return result, sends - 1
    except StillBusy as busy:  # still busy after the retries, or asking for longer than we wait here
        return busy.result, sends - 1
    except Exception as exc:
        # A stored subscription that cannot be encrypted for, say; it must not sink the others.
        log.exception("push to %s could not be prepared", origin(sub.endpoint))
        return SendResult(sub.endpoint, Outcome.FAILED, detail=f"{type(exc).__name__}: {exc}"), sends - 1
    raise AssertionError("stamina's retry_context ends with a result or an exception")


def _tally(report: DeliveryReport, follows: bool) -> Tally:
    """A delivery's sends by outcome: a pending one is retried when a later round follows, else it failed."""
    tally = Tally()
    pending = len(report.pending)
    tally.count(PUSHES, "sent", n=len(report.delivered))
    tally.count(PUSHES, "gone", n=len(report.gone))
    tally.count(PUSHES, "retried", n=report.retried + (pending if follows else 0))
    tally.count(PUSHES, "failed", n=len(report.endpoints(Outcome.FAILED)) + (0 if follows else pending))
    return tally


# --- the arq job ----------------------------------------------------------------------------------------------

PUSH_ROUNDS = 5  # the push job's tries (arq max_tries): each round already retries in-process
PUSH_DEDUPE_S = 86_400  # a push job's result is kept this long, so its id cannot be queued again meanwhile
_PAYLOAD_DECODER = msgspec.json.Decoder(AlertPayload)


def push_job_id(user_id: str, alert: Alert) -> str:
    """The arq job id of one alert's push: the same alert (a redelivered batch) is never queued twice."""
    return f"push:{user_id}:{alert.session_id}:{alert.kind}:{int(alert.at.timestamp() * 1000)}"


def install_push(
    ctx: dict[str, Any],
    book: PushBook,
    sender: PushSender,
    retry: RetryPolicy = RetryPolicy(),
    figures: Redis | None = None,
) -> None:
    """Put what ``push_alert_job`` needs into the arq context (call from the worker's on_startup).

    ``figures``: the Redis that keeps the worker's metrics (``adapters.metrics``); None counts nothing.
    """
    ctx["push_book"] = book
    ctx["push_sender"] = sender
    ctx["push_retry"] = retry
    ctx["push_figures"] = figures


async def push_alert_job(ctx: dict[str, Any], user_id: str, payload: bytes) -> dict[str, int]:
    """arq job: deliver one alert (``AlertPayload`` as JSON) to the user's devices.

    While some device's push service still says "later", the job asks arq to run it again (``Retry``, deferred by
    the service's Retry-After or a growing delay), up to ``PUSH_ROUNDS`` tries (its ``max_tries``); each round skips
    the devices an earlier one settled (kept under ``keys.push_settled``), so a device that has the alert is not sent
    it again; the Topic header makes a repeat of an undelivered message replace it at the push service. A job may
    still run twice (a crash); the worst case is a repeated notification, which the service worker collapses by its
    tag.
    """
    round_no: int = ctx.get("job_try") or 1
    redis = ctx["redis"]
    settled_key = keys.push_settled(str(ctx.get("job_id") or f"{user_id}:{hashlib.sha256(payload).hexdigest()}"))
    settled = {m.decode() for m in await redis.smembers(settled_key)} if round_no > 1 else set()
    report = await deliver_alert(
        ctx["push_book"],
        ctx["push_sender"],
        user_id,
        _PAYLOAD_DECODER.decode(payload),
        skip=settled,
        retry=ctx["push_retry"],
    )
    follows = bool(report.pending) and round_no < PUSH_ROUNDS
    if ctx.get("push_figures") is not None:
        await _tally(report, follows).save(ctx["push_figures"])
    if follows:
        done = [r.endpoint for r in report.results if r.outcome is not Outcome.RETRY]
        if done:
            await redis.sadd(settled_key, *done)
            await redis.expire(settled_key, PUSH_DEDUPE_S)
        after = max((r.retry_after_s or 0.0 for r in report.results if r.outcome is Outcome.RETRY), default=0.0)
        raise Retry(defer=max(after, 30.0 * 2 ** (round_no - 1)))
    if report.pending:
        log.warning("giving up on %d push subscription(s) of user %s", len(report.pending), user_id)
    return {outcome.value: len(report.endpoints(outcome)) for outcome in Outcome}


__all__ = [
    "ALERT_TTL_S",
    "MAX_PAYLOAD_BYTES",
    "PUSH_DEDUPE_S",
    "AlertAction",
    "AlertPayload",
    "DeliveryReport",
    "Outcome",
    "PushSender",
    "RetryPolicy",
    "SendResult",
    "Urgency",
    "alert_payload",
    "classify",
    "deliver_alert",
    "install_push",
    "origin",
    "push_alert_job",
    "push_job_id",
    "retry_after_seconds",
    "vapid_authorization",
    "vapid_jwt",
]
