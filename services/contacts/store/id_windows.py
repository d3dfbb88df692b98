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

A query that names a tag, a language, a country, a status, an assignee or a search word
of three letters or more has a second way in: the contacts holding that value, through
`list_keys` (``"<workspace>:<what>:<value>"``, one single-field multikey index; for a
search, its rarest-looking three-letter piece: query.narrowing_keys). The windows go first
(an unselective query fills its page from the newest contacts at once); when
the first window (`NARROW_AFTER_IDS` ids) gave too few rows, the rest of the page comes from the contacts
holding the key instead, which a selective query keeps few. A filter that keeps an
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
#: Ids the windows walk before a query turns to the contacts holding its narrowing key (one
#: first window: a query that fills its page there never needs the key).
NARROW_AFTER_IDS = MIN_WINDOW


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
    `narrow`: `list_keys` entries one of which every match holds, or None."""
    rows: list[Document] = []
    window = max(MIN_WINDOW, 2 * limit)
    edge, walked = start, 0
    order = DESCENDING if descending else ASCENDING
    while len(rows) < limit and (edge - 1 > stop if descending else edge + 1 < stop):
        if narrow and walked >= NARROW_AFTER_IDS:
            bounds = {"$lt": edge, "$gt": stop} if descending else {"$gt": edge, "$lt": stop}
            keys = narrow[0] if len(narrow) == 1 else {"$in": narrow}
            by_key = {"list_keys": keys, **with_clause(found, {"id": bounds})}
            rows += await contacts.find(by_key, session=session).sort("id", order).limit(
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
