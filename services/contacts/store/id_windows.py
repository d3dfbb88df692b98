"""List pages of one workspace's contacts that cost the page, not the workspace.

A query like ``find({workspace_id, blocked, tag_keys}).sort("id", -1).limit(21)`` is one
index walk on MongoDB. The local server (SecantusDB 0.7) plans differently: it walks an
index only when the filter's fields are exactly an index's prefix (plus one range), else
it takes the *first* filter field that leads a single-field index, fetches everything
that clause matches, then sorts and limits. Every contacts index leads with
`workspace_id`, so a page of 20 read the whole workspace (~400 ms at 16,000 contacts,
holding the store) and the soak's throughput fell as the store grew (bench/README.md).

So a page walks the workspace's ids itself, in windows: each window's query starts with a
range on `wid` (``"<workspace>:<id, 19 digits>"``, a single-field index), so the server
fetches just that window and applies the rest of the filter to it. Ids are a per-workspace
sequence (dense, minus deletions). The first window is a little larger than the page and
widens (x4, up to `MAX_WINDOW`) while windows come back short, as under a selective filter.

A search with a word of three letters or more has a second way in: the contacts holding
the search's rarest-looking three-letter piece (`search_grams`, one single-field index).
The windows go first (an unselective search fills its page from the newest contacts
at once); when `GRAM_AFTER_IDS` ids gave too few rows, the rest of the page comes from the
piece's contacts instead, which a selective search keeps few. A filter that keeps an
`$and`/`$or` (any-of groups, a field tested twice, a phone-like search) still makes the
local server scan the collection (docs/operations.md); MongoDB plans all of these well.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from services.contacts.store.documents import Session, window_key
from services.contacts.store.query import with_clause
from shared.mongo import Document

#: The first window: twice the rows wanted, at least this many ids.
MIN_WINDOW = 64
#: The widest window (ids per query) a selective filter grows to.
MAX_WINDOW = 4096
#: Ids the windows walk before a search turns to its three-letter piece's contacts.
GRAM_AFTER_IDS = 320


async def scan_ids(
    contacts: AsyncCollection[Document],
    found: Document,
    *,
    workspace_id: str,
    descending: bool,
    start: int,
    stop: int,
    limit: int,
    gram: str | None = None,
    session: Session = None,
) -> list[Document]:
    """Up to `limit` documents matching `found` with ids strictly between `start` and `stop`,
    in id order from `start`: downwards when `descending` (`start` > `stop`), else upwards.
    `gram`: the stored key of a piece every match holds (a search's), or None."""
    rows: list[Document] = []
    window = max(MIN_WINDOW, 2 * limit)
    edge, walked = start, 0
    order = DESCENDING if descending else ASCENDING
    while len(rows) < limit and (edge - 1 > stop if descending else edge + 1 < stop):
        if gram is not None and walked >= GRAM_AFTER_IDS:
            bounds = {"$lt": edge, "$gt": stop} if descending else {"$gt": edge, "$lt": stop}
            by_gram = {"search_grams": gram, **with_clause(found, {"id": bounds})}
            rows += await contacts.find(by_gram, session=session).sort("id", order).limit(
                limit - len(rows)).to_list()
            break
        if descending:
            lo, hi = max(stop + 1, edge - window), edge  # lo <= id < hi
        else:
            lo, hi = edge + 1, min(stop, edge + 1 + window)
        bounded = {"wid": {"$gte": window_key(workspace_id, lo),
                           "$lt": window_key(workspace_id, hi)}, **found}
        got = await contacts.find(bounded, session=session).sort("id", order).limit(
            limit - len(rows)).to_list()
        rows.extend(got)
        walked += hi - lo
        edge = lo if descending else hi - 1
        if len(got) * 2 < window:  # a selective filter: look further per query
            window = min(MAX_WINDOW, window * 4)
    return rows
