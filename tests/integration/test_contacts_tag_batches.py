"""Catalog tag rename/delete walk every contact carrying the tag, batch after batch.

Runs the contacts handlers on the real database with a batch of 2, so five contacts
take three transactions (a case-only rename keeps the tag's key: the walk must page by
contact id, not stop at the first batch it already rewrote).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from services.contacts.app import bootstrap
from services.contacts.settings import ContactsSettings
from services.contacts.store import CatalogStore, ContactStore
from shared.internal import Caller
from shared.mongo import Document, make_mongo_client
from shared.outbox import OUTBOX, Outbox
from shared.settings import MongoSettings
from shared.unit_of_work import MongoUnitOfWork
from tests.fixtures.stack import JointFixture
from tests.support.contacts_calls import ContactsCalls


@pytest.fixture
async def contacts(servers: JointFixture) -> AsyncIterator[tuple[ContactsCalls, Caller, str]]:
    name = f"test_tag_batches_{uuid.uuid4().hex[:8]}"
    client = make_mongo_client(MongoSettings(mongo_url=servers.mongo_url, mongo_database=name),
                               app_name="test")
    db = client[name]
    store, catalog = ContactStore(db), CatalogStore(db)
    await store.ensure_indexes()
    settings = ContactsSettings(internal_token="x" * 16, tag_batch_size=2)
    service = ContactsCalls(bootstrap(settings, uow=MongoUnitOfWork(client, db, Outbox(db)),
                                      contacts=store, catalog=catalog))
    caller = Caller(workspace_id="ws_t", user_id="usr_t", role="owner", default_region="FR")
    try:
        yield service, caller, name
    finally:
        await client.drop_database(name)
        await client.close()


async def test_case_only_rename_and_delete_reach_every_contact(
    contacts: tuple[ContactsCalls, Caller, str],
) -> None:
    service, caller, _ = contacts
    ids = [await service.create(caller, f"email:c{i}@example.com", {}) for i in range(5)]
    for cid in ids:
        await service.add_tags(caller, f"id:{cid}", ["vip"])

    await service.update_tag(caller, {"currentName": "vip", "name": "VIP"})
    assert [(await service.get(caller, f"id:{cid}")).contact.tags for cid in ids] == [["VIP"]] * 5
    assert [t.name for t in await service.tags(caller)] == ["VIP"]

    await service.delete_tag(caller, {"name": "VIP"})
    assert [(await service.get(caller, f"id:{cid}")).contact.tags for cid in ids] == [[]] * 5
    assert await service.tags(caller) == []


async def test_every_rewrite_is_one_event_per_contact(
    contacts: tuple[ContactsCalls, Caller, str], servers: JointFixture
) -> None:
    service, caller, name = contacts
    ids = [await service.create(caller, f"phone:+3361234560{i}", {}) for i in range(5)]
    for cid in ids:
        await service.add_tags(caller, f"id:{cid}", ["gold"])
    await service.update_tag(caller, {"currentName": "gold", "name": "Gold"})

    client = make_mongo_client(MongoSettings(mongo_url=servers.mongo_url, mongo_database=name),
                               app_name="test")
    try:
        rows: list[Document] = await client[name][OUTBOX].find(
            {"type": "contact.tags_changed"}).to_list()
    finally:
        await client.close()
    # 5 adds + 5 renames, each contact's events keyed by that contact
    assert len(rows) == 10
    assert sorted(row["key"] for row in rows) == sorted(f"ws_t:{cid}" for cid in ids for _ in "ab")
