"""Catalog tag rename/delete while contacts keep being tagged, and after a crash mid-way.

The handlers run on the real database with a batch of 2. A hook on the contact store runs
between the rewrite's batches (after the catalog entry is marked), which is where the races
of a rename or deletion were: a tag assigned there, a name created there, a crash there.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from services.contacts.app import bootstrap
from services.contacts.domain.contact import Contact
from services.contacts.domain.errors import Conflict
from services.contacts.settings import ContactsSettings
from services.contacts.store import CatalogStore, ContactStore
from shared.internal import Caller
from shared.mongo import make_mongo_client
from shared.outbox import Outbox
from shared.settings import MongoSettings
from shared.unit_of_work import MongoUnitOfWork
from tests.fixtures.stack import JointFixture
from tests.support.contacts_calls import ContactsCalls

Hook = Callable[[int], Awaitable[None]]


class HookedStore(ContactStore):
    """A contact store that calls `hook(n)` before the n-th batch of a tag rewrite (n ≥ 1)."""

    hook: Hook | None = None
    calls = 0

    async def with_tag(self, workspace_id: str, key: str, *, after: int,
                       limit: int) -> list[Contact]:
        self.calls += 1
        if self.hook is not None:
            await self.hook(self.calls)
        return await super().with_tag(workspace_id, key, after=after, limit=limit)


class Crash(Exception):
    """The process 'dies' between two batches."""


@pytest.fixture
async def env(servers: JointFixture) -> AsyncIterator[tuple[ContactsCalls, HookedStore, Caller]]:
    name = f"test_tag_races_{uuid.uuid4().hex[:8]}"
    client = make_mongo_client(MongoSettings(mongo_url=servers.mongo_url, mongo_database=name),
                               app_name="test")
    db = client[name]
    store, catalog = HookedStore(db), CatalogStore(db)
    await store.ensure_indexes()
    await catalog.ensure_indexes()
    settings = ContactsSettings(internal_token="x" * 16, tag_batch_size=2)
    service = ContactsCalls(bootstrap(settings, uow=MongoUnitOfWork(client, db, Outbox(db)),
                                      contacts=store, catalog=catalog))
    caller = Caller(workspace_id="ws_r", user_id="usr_r", role="owner", default_region="FR")
    try:
        yield service, store, caller
    finally:
        await client.drop_database(name)
        await client.close()


async def _tagged(service: ContactsCalls, caller: Caller, count: int, tag: str) -> list[int]:
    ids = [await service.create(caller, f"email:r{i}@example.com", {}) for i in range(count)]
    for cid in ids:
        await service.add_tags(caller, f"id:{cid}", [tag])
    return ids


async def _tags_of(service: ContactsCalls, caller: Caller, ids: list[int]) -> list[list[str]]:
    return [(await service.get(caller, f"id:{cid}")).contact.tags for cid in ids]


async def _catalog(service: ContactsCalls, caller: Caller) -> list[str]:
    return [t.name for t in await service.tags(caller)]


@pytest.mark.parametrize("new_name", ["Gold", "VIP"])  # to another key, and case only
async def test_a_tag_assigned_during_a_rename_gets_the_new_name(
    env: tuple[ContactsCalls, HookedStore, Caller], new_name: str
) -> None:
    service, store, caller = env
    ids = await _tagged(service, caller, 5, "vip")
    late = await service.create(caller, "email:late@example.com", {})
    early = await service.create(caller, "email:early@example.com", {})
    await service.remove_tags(caller, f"id:{ids[0]}", ["vip"])

    async def assign(n: int) -> None:
        if n == 2:  # the first batch (ids[0..1]) is done: tag one behind and one ahead
            await service.add_tags(caller, f"id:{ids[0]}", ["vip", "other"])
            await service.add_tags(caller, f"id:{late}", ["VIP"])
        if n == 3:
            await service.add_tags(caller, f"id:{early}", ["vip"])

    store.hook = assign
    await service.update_tag(caller, {"currentName": "vip", "name": new_name})

    assert await _tags_of(service, caller, ids) == [[new_name, "other"]] + [[new_name]] * 4
    assert await _tags_of(service, caller, [late, early]) == [[new_name]] * 2
    assert sorted(await _catalog(service, caller)) == sorted([new_name, "other"])


async def test_a_tag_being_deleted_cannot_be_assigned(
    env: tuple[ContactsCalls, HookedStore, Caller],
) -> None:
    service, store, caller = env
    ids = await _tagged(service, caller, 4, "vip")
    await service.remove_tags(caller, f"id:{ids[0]}", ["vip"])
    refused: list[Conflict] = []

    async def assign(n: int) -> None:
        if n == 2:
            with pytest.raises(Conflict) as caught:
                await service.add_tags(caller, f"id:{ids[0]}", ["vip"])
            refused.append(caught.value)

    store.hook = assign
    await service.delete_tag(caller, {"name": "VIP"})

    assert refused and "being deleted" in refused[0].message
    assert await _tags_of(service, caller, ids) == [[]] * 4
    assert await _catalog(service, caller) == []
    # once deleted, assigning the name creates a new tag
    await service.add_tags(caller, f"id:{ids[0]}", ["vip"])
    assert await _catalog(service, caller) == ["vip"]


async def test_the_new_name_is_reserved_before_any_contact_changes(
    env: tuple[ContactsCalls, HookedStore, Caller],
) -> None:
    service, store, caller = env
    ids = await _tagged(service, caller, 3, "vip")
    await service.create_tag(caller, {"name": "Taken"})

    with pytest.raises(Conflict, match="taken"):
        await service.update_tag(caller, {"currentName": "vip", "name": "taken"})
    assert store.calls == 0 and await _tags_of(service, caller, ids) == [["vip"]] * 3

    async def create_the_new_name(n: int) -> None:
        if n == 1:
            with pytest.raises(Conflict, match="gold"):
                await service.create_tag(caller, {"name": "gold"})

    store.hook = create_the_new_name
    renamed = await service.update_tag(caller, {"currentName": "vip", "name": "Gold"})
    assert renamed.name == "Gold"
    assert await _tags_of(service, caller, ids) == [["Gold"]] * 3
    assert sorted(await _catalog(service, caller)) == ["Gold", "Taken"]


async def test_an_interrupted_rename_is_finished_by_repeating_it(
    env: tuple[ContactsCalls, HookedStore, Caller],
) -> None:
    service, store, caller = env
    ids = await _tagged(service, caller, 5, "vip")
    await service.create_tag(caller, {"name": "other"})

    async def crash(n: int) -> None:
        if n == 2:
            raise Crash

    store.hook = crash
    with pytest.raises(Crash):
        await service.update_tag(caller, {"currentName": "vip", "name": "Gold", "emoji": "💎"})
    store.hook = None
    assert await _tags_of(service, caller, ids) == [["Gold"]] * 2 + [["vip"]] * 3
    # until it is finished: the catalog shows the old name, assigning follows the rename,
    # another change of the tag or its new name is refused
    assert sorted(await _catalog(service, caller)) == ["other", "vip"]
    extra = await service.create(caller, "email:extra@example.com", {})
    await service.add_tags(caller, f"id:{extra}", ["VIP"])
    assert await _tags_of(service, caller, [extra]) == [["Gold"]]
    refusals: list[tuple[str, dict[str, Any]]] = [
        ("update", {"currentName": "vip", "name": "Silver"}),
        ("update", {"currentName": "vip", "colorCode": "#000000"}),
        ("update", {"currentName": "gold", "colorCode": "#000000"}),
        ("delete", {"name": "vip"}),
        ("delete", {"name": "Gold"}),
    ]
    for verb, body in refusals:
        call = service.update_tag if verb == "update" else service.delete_tag
        with pytest.raises(Conflict, match="rename"):
            await call(caller, body)
    with pytest.raises(Conflict, match="already a tag"):
        await service.create_tag(caller, {"name": "GOLD"})

    tag = await service.update_tag(caller, {"currentName": "vip", "name": "Gold", "emoji": "💎"})
    assert tag.emoji == "💎"
    assert await _tags_of(service, caller, [*ids, extra]) == [["Gold"]] * 6
    assert sorted(await _catalog(service, caller)) == ["Gold", "other"]
    assert [t.emoji for t in await service.tags(caller) if t.name == "Gold"] == ["💎"]


async def test_an_interrupted_delete_is_finished_by_repeating_it(
    env: tuple[ContactsCalls, HookedStore, Caller],
) -> None:
    service, store, caller = env
    ids = await _tagged(service, caller, 5, "vip")

    async def crash(n: int) -> None:
        if n == 2:
            raise Crash

    store.hook = crash
    with pytest.raises(Crash):
        await service.delete_tag(caller, {"name": "vip"})
    store.hook = None
    assert await _tags_of(service, caller, ids) == [[]] * 2 + [["vip"]] * 3
    with pytest.raises(Conflict, match="deletion"):
        await service.update_tag(caller, {"currentName": "vip", "name": "Gold"})

    await service.delete_tag(caller, {"name": "vip"})
    assert await _tags_of(service, caller, ids) == [[]] * 5
    assert await _catalog(service, caller) == []
