"""Contact ids of a brand-new workspace, taken by many creates at once, are 1..N.

The first upserts of a workspace's counter race to insert it; the store must give every
caller a distinct id anyway (SecantusDB answers a losing upsert without the document).
"""

from __future__ import annotations

import asyncio
import uuid

from services.contacts.store import ContactStore
from shared.mongo import make_mongo_client
from shared.settings import MongoSettings
from tests.fixtures.stack import JointFixture


async def test_concurrent_first_ids_of_a_workspace_are_distinct(servers: JointFixture) -> None:
    name = f"test_ids_{uuid.uuid4().hex[:8]}"
    client = make_mongo_client(MongoSettings(mongo_url=servers.mongo_url, mongo_database=name),
                               app_name="test")
    try:
        store = ContactStore(client[name])
        for round_ in range(5):  # five fresh workspaces: five races for the first insert
            workspace = f"ws_{round_}"
            ids = await asyncio.gather(*(store.next_id(workspace, None) for _ in range(20)))
            assert sorted(ids) == list(range(1, 21)), ids
    finally:
        await client.drop_database(name)
        await client.close()
