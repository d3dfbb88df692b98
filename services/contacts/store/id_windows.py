"""List pages of one workspace's contacts that cost the page, not the workspace.

A query like ``find({workspace_id, blocked, tag_keys}).sort("id", -1).limit(21)`` is one
index walk on MongoDB. The local server (SecantusDB 0.7) plans differently: it walks an
index only when the filter's fields are exactly an index's prefix (plus one range), else
it takes the *first* filter field that leads a single-field index, fetches everything
that clause matches, then sorts and limits. Every contacts index leads with
`workspace_id`, so a page of 20 read the whole workspace (~400 ms at 16,000 contacts,
holding the store) and the soak's throughput fell as the store grew (bench/README.md).

So a page walks the workspace's ids itself, in windows, each window one query whose
first clause is a range the server walks on a single-field index:

- a query with a **narrowing key** (query.narrowing_keys: a tag, an equal language,
  country, status or assignee, or the search's rarest-looking three-letter piece) ranges
  over that key's postings in `list_keys` (``"<workspace>:<what>:<value>:<id, 19
  digits>"``): a window fetches only the contacts holding the key in that id range, so
  a selective query pays for its matches near the page, not for the workspace;
- any other query ranges over `wid` (``"<workspace>:<id, 19 digits>"``): a window fetches
  every contact of the range and the server applies the filter to them.

Ids are a per-workspace sequence (dense, minus deletions). The first window is a little
larger than the page; it widens while windows come back short (x4 on `wid` up to
`MAX_WINDOW` ids; x8 without bound on a key's postings, whose windows cost what they
hold). A filter that keeps an `$and`/`$or` (any-of groups, a field tested twice, a
phone-like search) still makes the local server scan the collection (docs/operations.md);
MongoDB plans all of these well.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from services.contacts.store.documents import Session, posting, window_key
from shared.mongo import Document

#: The first window: twice the rows wanted, at least this many ids.
MIN_WINDOW = 64
#: The widest window (ids per query) a walk over every contact grows to.
MAX_WINDOW = 4096


async def scan_ids(
    contacts: AsyncCollection[Document],
    found: Document,
    *,
    workspace_id: str,
    descending: bool,
    start: int,
    stop: int,
    limit: int,
    narrow: list[str] | None = None,
    session: Session = None,
) -> list[Document]:
    """Up to `limit` documents matching `found` with ids strictly between `start` and `stop`,
    in id order from `start`: downwards when `descending` (`start` > `stop`), else upwards.
    `narrow`: narrowing keys one of which every match holds (`documents.list_key`), or
    None."""
    rows: list[Document] = []
    window = max(MIN_WINDOW, 2 * limit)
    edge = start
    order = DESCENDING if descending else ASCENDING
    while len(rows) < limit and (edge - 1 > stop if descending else edge + 1 < stop):
        if descending:
            lo, hi = max(stop + 1, edge - window), edge  # lo <= id < hi
        else:
            lo, hi = edge + 1, min(stop, edge + 1 + window)
        wanted = limit - len(rows)
        if narrow:
            got = await _by_keys(contacts, found, narrow, lo=lo, hi=hi, order=order,
                                 limit=wanted, session=session)
        else:
            bounded = {"wid": {"$gte": window_key(workspace_id, lo),
                               "$lt": window_key(workspace_id, hi)}, **found}
            got = await contacts.find(bounded, session=session).sort("id", order).limit(
                wanted).to_list()
        rows.extend(got)
        edge = lo if descending else hi - 1
        if len(got) * 2 < window:  # a selective filter: look further per query
            window = window * 8 if narrow else min(MAX_WINDOW, window * 4)
    return rows


async def _by_keys(
    contacts: AsyncCollection[Document],
    found: Document,
    keys: list[str],
    *,
    lo: int,
    hi: int,
    order: int,
    limit: int,
    session: Session,
) -> list[Document]:
    """The matches holding any of `keys` with ids in ``[lo, hi)``, in `order`, at most
    `limit` (one query per key; a contact holding two of them is listed once)."""
    merged: dict[object, Document] = {}
    for key in keys:
        ranged = {"list_keys": {"$gte": posting(key, lo), "$lt": posting(key, hi)}, **found}
        for doc in await contacts.find(ranged, session=session).sort("id", order).limit(
                limit).to_list():
            merged[doc["_id"]] = doc
    docs = sorted(merged.values(), key=lambda doc: doc["id"], reverse=order == DESCENDING)
    return docs[:limit]
