"""The batch subscriber's per-message guarantees, on an in-memory unit of work (no servers).

The same behaviour on the real broker and database: tests/integration/test_dead_letter.py
and tests/e2e/contacts/test_contacts_e2e_sender_commands.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from pymongo.errors import AutoReconnect

from shared import consuming
from shared.consuming import _Consumer
from shared.contracts import ContactBlocked, Envelope, envelope_for
from shared.unit_of_work import AlreadyProcessed, IdempotencyKey, Transaction

T = TypeVar("T")


@dataclass
class _Tx:
    session: Any = None
    writes: list[str] = field(default_factory=list)

    async def publish(self, *, topic: str, key: str, envelope: Envelope[Any]) -> None:
        raise AssertionError("not used here")


@dataclass
class MemoryUnitOfWork:
    """All-or-nothing on lists: a transaction's writes land only if its work returns."""

    applied: list[str] = field(default_factory=list)
    processed: set[str] = field(default_factory=set)
    transactions: int = 0

    async def run(
        self, work: Callable[[Transaction], Awaitable[T]], *, message_ids: Sequence[str] = ()
    ) -> T:
        self.transactions += 1
        if self.processed & set(message_ids):
            raise AlreadyProcessed(message_ids)
        tx = _Tx()
        result = await work(tx)
        self.applied += tx.writes
        self.processed |= set(message_ids)
        return result

    async def run_idempotent(self, work: Any, *, key: IdempotencyKey, answer: Any) -> Any:
        raise AssertionError("not used here")

    async def already_processed(self, message_ids: Sequence[str]) -> set[str]:
        return self.processed & set(message_ids)


class FakeBroker:
    """Collects what the consumer publishes (its dead letters)."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    async def publish(self, body: bytes, **kwargs: Any) -> None:
        self.published.append({"body": body, **kwargs})


def event(contact_id: int) -> Envelope[Any]:
    return envelope_for(ContactBlocked(contact_id=contact_id, version=1), source="test",
                        subject=f"contact/{contact_id}", workspace_id="ws")


def record(envelope: Envelope[Any] | bytes, offset: int) -> SimpleNamespace:
    value = envelope if isinstance(envelope, bytes) else envelope.model_dump_json().encode()
    return SimpleNamespace(value=value, key=b"ws:1", partition=0, offset=offset)


def consumer(uow: MemoryUnitOfWork, broker: FakeBroker) -> _Consumer:
    return _Consumer(broker, service="test", uow=uow, topic="t",  # type: ignore[arg-type]
                     group_id="g", attempts=3)


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consuming.asyncio, "sleep", _instant)


async def _instant(_: float) -> None:
    return None


async def apply_unless_poison(envelopes: Sequence[Envelope[Any]], tx: Any) -> None:
    for envelope in envelopes:
        if envelope.data.contact_id == 666:
            raise ValueError("contact 666 cannot be applied")
        tx.writes.append(envelope.id)


async def test_a_batch_is_one_transaction() -> None:
    uow, broker = MemoryUnitOfWork(), FakeBroker()
    events = [event(i) for i in range(50)]
    await consumer(uow, broker).receive([record(e, i) for i, e in enumerate(events)],
                                        apply_unless_poison)
    assert uow.applied == [e.id for e in events]
    assert uow.transactions == 1
    assert broker.published == []


async def test_one_poison_message_in_200_goes_to_the_dlq_alone_and_the_rest_apply_in_order(
) -> None:
    uow, broker = MemoryUnitOfWork(), FakeBroker()
    events = [event(i) for i in range(200)]
    events[117] = event(666)
    await consumer(uow, broker).receive([record(e, i) for i, e in enumerate(events)],
                                        apply_unless_poison)

    assert uow.applied == [e.id for i, e in enumerate(events) if i != 117]
    assert [p["body"] for p in broker.published] == [events[117].model_dump_json().encode()]
    headers = broker.published[0]["headers"]
    assert headers["x-error-kind"] == "processing"
    assert headers["x-original-offset"] == "117"
    assert headers["x-error"] == "ValueError: contact 666 cannot be applied"
    # Bisection: a handful of transactions, not one per message.
    assert uow.transactions < 40


async def test_invalid_bytes_and_repeats_in_a_batch_change_nothing() -> None:
    uow, broker = MemoryUnitOfWork(), FakeBroker()
    first, second = event(1), event(2)
    await consumer(uow, broker).receive([record(first, 0)], apply_unless_poison)
    batch = [record(first, 1), record(b"{not json", 2), record(second, 3), record(second, 4)]
    await consumer(uow, broker).receive(batch, apply_unless_poison)

    assert uow.applied == [first.id, second.id]
    assert [p["headers"]["x-error-kind"] for p in broker.published] == ["invalid"]


async def test_a_database_outage_hands_the_whole_batch_back() -> None:
    class Away(MemoryUnitOfWork):
        async def run(self, work: Any, *, message_ids: Sequence[str] = ()) -> Any:
            raise AutoReconnect("connection refused")

    uow, broker = Away(), FakeBroker()
    with pytest.raises(AutoReconnect):
        await consumer(uow, broker).receive([record(event(1), 0), record(event(2), 1)],
                                            apply_unless_poison)
    assert broker.published == [], "an outage is not the messages' fault: no dead letters"
