"""The one exception tree: permanent errors are the caller's to fix, retryable ones heal by trying again.

BankrollError
├── PermanentError            (never retried; HTTP 4xx at the API edge, job failure in workers)
│   ├── InvalidEvent          an event breaks the schema or a rule; names field, value and rule
│   ├── NotAllowed            the caller may not touch this session or resource
│   ├── InvalidInput          a bad request that is not an event (filters, imports, subscriptions)
│   ├── SinkRejected          a sink refuses these entries (a value its store cannot hold): dead-lettered
│   └── BadSetting            a setting names something unusable (a missing file, a file of the wrong kind)
└── RetryableError            (workers map to arq ``Retry`` with backoff; HTTP 503 at the edge)
    └── SinkUnavailable       ClickHouse, Kafka, Redis or a push service is down for now
"""

from __future__ import annotations


class BankrollError(Exception):
    """Root of every error this project raises on purpose."""


class PermanentError(BankrollError):
    """Trying again with the same input gives the same failure."""


class InvalidEvent(PermanentError):
    """An event breaks the schema or a rule of the session."""


class NotAllowed(PermanentError):
    """The caller may not read or write this resource."""


class InvalidInput(PermanentError):
    """A request other than an event is malformed: filter, import row, subscription."""


class SinkRejected(PermanentError):
    """A sink is up but refuses this data; the fan-out retries the entry a few times, then dead-letters it."""


class BadSetting(PermanentError):
    """A setting names something this process cannot use; the message names the variable, the value and why."""


class RetryableError(BankrollError):
    """A dependency failed in a way that may heal; try again later."""


class SinkUnavailable(RetryableError):
    """A sink (ClickHouse, Kafka, push service) cannot take writes right now."""
