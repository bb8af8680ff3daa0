"""Sinks: where accepted batches go. Each is idempotent, so a batch delivered twice does no harm.

Sink.start()   connect (may raise SinkUnavailable; the drain retries later)
Sink.write()   take a list of outbox entries; raise SinkUnavailable (the sink is down) to have them redelivered
               later, or SinkRejected / any other error (the data is at fault): the fan-out then finds the
               entries at fault by halving the batch, and dead-letters them after a few tries
Sink.close()   release connections
"""

from __future__ import annotations

import abc
import contextlib
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAlreadyExistsError,
)

from adapters.clickhouse import (
    EVENT_COLUMNS,
    TRANSACTION_COLUMNS,
    Warehouse,
    event_row,
    transaction_row,
)
from adapters.outbox import OutboxEntry
from adapters.rows import SESSION_COLUMNS, session_row
from shared.errors import SinkRejected, SinkUnavailable
from shared.events import encode_event

# Records the broker will never take, however often they are sent: the entry is dead-lettered.
_TOO_LARGE = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)


class Sink(abc.ABC):
    """A destination of accepted events, fed by its own consumer group on the outbox stream."""

    name: str

    async def start(self) -> None:
        """Connect; called before the first write and again after a failure."""

    @abc.abstractmethod
    async def write(self, entries: list[OutboxEntry]) -> None:
        """Deliver the entries; idempotent; raise SinkUnavailable when down, SinkRejected when the data is at fault."""

    async def close(self) -> None:
        """Release connections."""


class ClickHouseSink(Sink):
    """Raw events (deduplicated by id at intake and by ReplacingMergeTree), session rows, transactions."""

    name = "clickhouse"

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    async def write(self, entries: list[OutboxEntry]) -> None:
        now = datetime.now(UTC)
        pairs = [(entry.user_id, event) for entry in entries for event in entry.events]
        present = await self.warehouse.existing_ids([u for u, _ in pairs], [e.id for _, e in pairs])
        fresh = [(u, e) for u, e in pairs if str(e.id) not in present]
        await self.warehouse.insert("events", [event_row(u, e, now) for u, e in fresh], EVENT_COLUMNS)
        transactions = [row for u, e in fresh if (row := transaction_row(u, e)) is not None]
        # A void or correction of a transaction: its row again, with a higher revision, which the table keeps.
        transactions += [
            row
            for entry in entries
            for a in entry.amended
            if (row := transaction_row(entry.user_id, a.event, a.revision, a.voided)) is not None
        ]
        await self.warehouse.insert("transactions", transactions, TRANSACTION_COLUMNS)
        # Newest state per session wins in this batch; ReplacingMergeTree(version) settles the rest.
        latest: dict[str, tuple[str, Any]] = {}
        for entry in entries:
            for state in entry.states:
                seen = latest.get(state.session_id)
                if seen is None or seen[1].version <= state.version:
                    latest[state.session_id] = (entry.user_id, state)
        rows = [session_row(user, state, now) for user, state in latest.values()]
        await self.warehouse.insert("sessions", rows, SESSION_COLUMNS)


class KafkaSink(Sink):
    """Every event to one topic, keyed by session so a session's events stay in one partition, in order."""

    name = "kafka"

    def __init__(self, bootstrap: str, topic: str, partitions: int = 3) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        if self._producer is not None:
            return
        try:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
            await admin.start()
            try:
                await admin.create_topics([NewTopic(self.topic, self.partitions, 1)])
            except TopicAlreadyExistsError:
                pass
            finally:
                await admin.close()
            # Deliberate settings: acks=all and idempotence so a retried send is written once per partition;
            # a short linger lets a drained batch go out as few requests.
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                max_batch_size=512 * 1024,
                request_timeout_ms=10000,
            )
            await producer.start()
        except (KafkaError, OSError) as exc:
            raise SinkUnavailable(f"Kafka at {self.bootstrap} is unreachable: {exc}") from exc
        self._producer = producer

    async def write(self, entries: list[OutboxEntry]) -> None:
        await self.start()
        assert self._producer is not None
        try:
            futures = [
                await self._producer.send(
                    self.topic,
                    value=encode_event(event),
                    key=str(event.session_id or f"bankroll-{entry.user_id}").encode(),
                    headers=[("user_id", entry.user_id.encode()), ("type", event.type.encode())],
                )
                for entry in entries
                for event in entry.events
            ]
            for future in futures:
                await future
        except _TOO_LARGE as exc:
            raise SinkRejected(f"Kafka refused a record: {exc!r}") from exc
        except (KafkaError, OSError) as exc:
            await self.close()
            raise SinkUnavailable(f"Kafka send failed: {exc}") from exc

    async def ping(self) -> None:
        await self.start()

    async def close(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            with contextlib.suppress(KafkaError):
                await producer.stop()
