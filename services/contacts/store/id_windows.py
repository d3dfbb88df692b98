"""Keyset scans of one workspace's contacts in windows of ids, so a page costs its size.

A query like ``find({workspace_id, ...}).sort("id", -1).limit(21)`` is one index walk on
MongoDB. The local server (SecantusDB) plans it as *fetch every match, sort, then limit*:
a page of 20 of a 16,000-contact workspace read all 16,000 documents (~400 ms, holding the
store), and `count_documents(..., limit=1)` did the same. The soak's throughput fell with
the store's size because of it (bench/README.md).

So pages walk the id space themselves: ids are a per-workspace sequence (dense, minus
deletions), and a query bounded to ``lo <= id < hi`` costs ``hi - lo`` on any server. The
scan starts with a window a little larger than what it needs and widens it (x4, up to
`MAX_WINDOW`) while windows come back short, which is what a selective filter does. The
work of a page is then ~its window on a plain list and the matching range on a selective
one — never more than the old single query, and split into short queries that do not hold
the store for long.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from services.contacts.store.documents import Session
from services.contacts.store.query import with_clause
from shared.mongo import Document

#: The first window: twice the rows wanted, at least this many ids.
MIN_WINDOW = 64
#: The widest window (ids per query) a selective filter grows to.
MAX_WINDOW = 4096


async def scan_ids(
    contacts: AsyncCollection[Document],
    found: Document,
    *,
    descending: bool,
    start: int,
    stop: int,
    limit: int,
    session: Session = None,
) -> list[Document]:
    """Up to `limit` documents matching `found` with ids strictly between `start` and `stop`,
    in id order from `start`: downwards when `descending` (`start` > `stop`), else upwards."""
    rows: list[Document] = []
    window = max(MIN_WINDOW, 2 * limit)
    edge = start
    while len(rows) < limit and (edge - 1 > stop if descending else edge + 1 < stop):
        if descending:
            lo, hi = max(stop + 1, edge - window), edge  # lo <= id < hi
        else:
            lo, hi = edge + 1, min(stop, edge + 1 + window)
        bounded = with_clause(found, {"id": {"$gte": lo, "$lt": hi}})
        cursor = contacts.find(bounded, session=session).sort(
            "id", DESCENDING if descending else ASCENDING
        )
        got = await cursor.limit(limit - len(rows)).to_list()
        rows.extend(got)
        edge = lo if descending else hi - 1
        if len(got) * 2 < window:  # a selective filter: look further per query
            window = min(MAX_WINDOW, window * 4)
    return rows
