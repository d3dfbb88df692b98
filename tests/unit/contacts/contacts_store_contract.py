"""The contract every contacts repository passes: MongoDB (`store.py`) and the in-memory fake
(`tests/support/contacts_memory.py`).

`ContactRepositoryContract` and `CatalogRepositoryContract` hold the tests; a test module
subclasses them (`Test…`) and provides a `backend` fixture. The unit tier runs them on
the in-memory stores (`test_contacts_store_memory.py`), the integration tier on both
(`tests/integration/test_contacts_store_contract.py`). Each test uses fresh workspaces.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.contacts.api_shapes import parse_list_request
from services.contacts.domain.contact import Contact
from services.contacts.domain.contact_query import ContactQuery
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import Conflict
from services.contacts.domain.identifiers import parse_identifier
from services.contacts.domain.listing import build_contact_query
from services.contacts.domain.tags import PendingTagChange, Tag
from services.contacts.handlers.repositories import (
    CatalogRepository,
    ContactRepository,
    Layout,
    Session,
)
from shared.unit_of_work import Transaction, UnitOfWork

T0 = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)  # millisecond precision, as BSON


def _workspace() -> str:
    return f"ws_{uuid.uuid4().hex[:10]}"


@dataclass
class Backend:
    """One implementation of the repositories and its unit of work, fresh workspaces."""

    contacts: ContactRepository
    catalog: CatalogRepository
    uow: UnitOfWork
    ws: str = field(default_factory=_workspace)
    other_ws: str = field(default_factory=_workspace)

    async def write(self, work: Callable[[Session], Awaitable[Any]]) -> Any:
        """Run `work(session)` in a transaction."""

        async def in_tx(tx: Transaction) -> Any:
            return await work(tx.session)

        return await self.uow.run(in_tx)

    async def add(self, workspace_id: str | None = None, **fields: Any) -> Contact:
        """Store a new contact with the next id of the workspace."""
        workspace = workspace_id or self.ws
        contact_id = await self.contacts.next_id(workspace, None)
        contact = Contact.model_validate(
            {"workspace_id": workspace, "id": contact_id,
             "created_at": T0 + timedelta(seconds=contact_id), "updated_at": T0, **fields}
        )
        await self.write(lambda s: self.contacts.insert(contact, s))
        return contact


def _ident(raw: str) -> Any:
    return parse_identifier(raw, default_region="FR")


def _filter(backend: Backend, body: dict[str, Any]) -> ContactQuery:
    query, blocked = parse_list_request(body)
    return build_contact_query(query, workspace_id=backend.ws, blocked=blocked,
                               default_region="FR")


class ContactRepositoryContract:
    """Contacts: ids, lookups, optimistic replace, delete, paging, tag walks, transactions."""

    async def test_ids_increase_per_workspace(self, backend: Backend) -> None:
        ids = [await backend.contacts.next_id(backend.ws, None) for _ in range(3)]
        assert ids == [1, 2, 3]
        assert await backend.contacts.next_id(backend.other_ws, None) == 1

    async def test_an_inserted_contact_reads_back_equal_in_its_workspace_only(
        self, backend: Backend
    ) -> None:
        contact = await backend.add(first_name="Ann", email="Ann@Example.com", tags=["VIP"],
                                    custom_fields={"Age": 3})
        assert await backend.contacts.get(backend.ws, contact.id) == contact
        assert await backend.contacts.get(backend.other_ws, contact.id) is None
        assert await backend.contacts.get(backend.ws, contact.id + 1) is None

    async def test_resolve_by_id(self, backend: Backend) -> None:
        contact = await backend.add(first_name="Ann")
        assert await backend.contacts.resolve(backend.ws, _ident(f"id:{contact.id}")) == (
            contact, 1)
        assert await backend.contacts.resolve(backend.ws, _ident("id:99")) == (None, 0)

    async def test_resolve_by_email_gives_the_oldest_and_counts_matches(
        self, backend: Backend
    ) -> None:
        await backend.add(backend.other_ws, email="ann@example.com")  # another workspace
        oldest = await backend.add(email="ANN@example.com")
        await backend.add(email="bob@example.com")
        await backend.add(email="ann@EXAMPLE.com")
        found, matches = await backend.contacts.resolve(backend.ws, _ident("email:Ann@example.com"))
        assert (found, matches) == (oldest, 2)
        assert await backend.contacts.resolve(backend.ws, _ident("email:zed@example.com")) == (
            None, 0)

    async def test_resolve_by_phone(self, backend: Backend) -> None:
        one = await backend.add(phone="+33612345678")
        await backend.add(phone="+33698765432")
        assert await backend.contacts.resolve(backend.ws, _ident("phone:06 12 34 56 78")) == (
            one, 1)
        assert await backend.contacts.resolve(backend.other_ws, _ident("phone:+33612345678")) == (
            None, 0)

    async def test_replace_stores_the_next_version(self, backend: Backend) -> None:
        contact = await backend.add(first_name="Ann")
        changed = contact.model_copy(update={"first_name": "Anne", "version": 2})
        await backend.write(lambda s: backend.contacts.replace(changed, s))
        assert await backend.contacts.get(backend.ws, contact.id) == changed

    async def test_replace_over_a_changed_version_is_a_conflict(self, backend: Backend) -> None:
        contact = await backend.add(first_name="Ann")
        second = contact.model_copy(update={"first_name": "Anne", "version": 2})
        await backend.write(lambda s: backend.contacts.replace(second, s))
        stale = contact.model_copy(update={"first_name": "Annie", "version": 2})
        with pytest.raises(Conflict):
            await backend.write(lambda s: backend.contacts.replace(stale, s))
        assert await backend.contacts.get(backend.ws, contact.id) == second

    async def test_replace_of_a_deleted_contact_is_a_conflict(self, backend: Backend) -> None:
        contact = await backend.add(first_name="Ann")
        await backend.write(lambda s: backend.contacts.delete(contact, s))
        with pytest.raises(Conflict):
            await backend.write(lambda s: backend.contacts.replace(
                contact.model_copy(update={"version": 2}), s))

    async def test_delete_removes_the_contact_only(self, backend: Backend) -> None:
        gone = await backend.add(email="a@example.com")
        kept = await backend.add(email="a@example.com")
        await backend.write(lambda s: backend.contacts.delete(gone, s))
        assert await backend.contacts.get(backend.ws, gone.id) is None
        assert await backend.contacts.resolve(backend.ws, _ident("email:a@example.com")) == (
            kept, 1)

    async def test_pages_walk_newest_first_both_ways_within_the_workspace(
        self, backend: Backend
    ) -> None:
        for i in range(5):
            await backend.add(first_name=f"c{i}")
        await backend.add(backend.other_ws, first_name="other")
        await backend.add(backend.other_ws, first_name="other")
        query = ContactQuery(workspace_id=backend.ws)

        async def ids(**kwargs: Any) -> list[int]:
            return [c.id for c in await backend.contacts.page(query, **kwargs)]

        assert await ids(after=None, before=None, limit=10) == [5, 4, 3, 2, 1]
        assert await ids(after=None, before=None, limit=2) == [5, 4]
        assert await ids(after=4, before=None, limit=2) == [3, 2]
        assert await ids(after=2, before=None, limit=2) == [1]
        assert await ids(after=None, before=2, limit=2) == [4, 3]
        assert await ids(after=None, before=3, limit=10) == [5, 4]
        pages = await backend.contacts.page(query, after=None, before=None, limit=10)
        assert {c.workspace_id for c in pages} == {backend.ws}

    async def test_pages_apply_the_list_filter(self, backend: Backend) -> None:
        ann = await backend.add(first_name="Ann", last_name="Smith", tags=["VIP"])
        await backend.add(first_name="Bob", blocked=True, tags=["vip"])
        carl = await backend.add(first_name="Carl", phone="+33612345678")
        await backend.add(backend.other_ws, first_name="Ann")

        async def names(body: dict[str, Any]) -> list[str | None]:
            query = _filter(backend, body)
            return [c.first_name for c in
                    await backend.contacts.page(query, after=None, before=None, limit=10)]

        assert await names({}) == ["Carl", "Ann"]  # blocked ones apart
        assert await names({"blocked": None}) == ["Carl", "Bob", "Ann"]
        assert await names({"blocked": True}) == ["Bob"]
        assert await names({"search": "ann"}) == ["Ann"]
        assert await names({"search": "12 34 56"}) == ["Carl"]  # phone digits
        tagged = {"filter": {"$and": [
            {"category": "contactTag", "operator": "hasAnyOf", "value": ["vip"]}]}}
        assert await names({**tagged, "blocked": None}) == ["Bob", "Ann"]
        untagged = {"filter": {"$and": [
            {"category": "contactTag", "field": None, "operator": "doesNotExist"}]}}
        assert await names(untagged) == ["Carl"]
        not_smith = {"filter": {"$and": [{"category": "contactField", "field": "lastName",
                                          "operator": "isNotEqualTo", "value": "Smith"}]}}
        assert await names(not_smith) == ["Carl"]  # an empty field is "not Smith"
        assert await backend.contacts.exists(_filter(backend, {"search": "carl"}))
        assert not await backend.contacts.exists(_filter(backend, {"search": "zed"}))
        assert (ann.id, carl.id) == (1, 3)

    async def test_every_list_test_means_the_same_on_every_backend(
        self, backend: Backend
    ) -> None:
        await backend.add(first_name="Ann", last_name="", tags=["VIP", "Lead"],
                          custom_fields={"Age": 41, "Since": "2024-05-02"}, language="fr")
        await backend.add(first_name="Bob", assignee=1, tags=["vip"],
                          custom_fields={"Age": 17.5, "Club": True})
        await backend.add(email="Carl@Example.com", status="open")

        async def names(*conditions: dict[str, Any], search: str | None = None) -> list[Any]:
            body: dict[str, Any] = {"filter": {"$and": list(conditions)}}
            if search:
                body["search"] = search
            found = await backend.contacts.page(_filter(backend, body), after=None,
                                                before=None, limit=10)
            return [c.first_name or c.email for c in found]

        def field(name: str, operator: str, value: Any = None) -> dict[str, Any]:
            return {"category": "contactField", "field": name, "operator": operator,
                    "value": value}

        def tags(operator: str, value: Any = None) -> dict[str, Any]:
            return {"category": "contactTag", "operator": operator, "value": value}

        everyone = ["Carl@Example.com", "Bob", "Ann"]
        assert await names() == everyone
        assert await names(field("lastName", "exists")) == []  # "" is not set
        assert await names(field("lastName", "doesNotExist")) == everyone
        assert await names(field("assignee", "hasNoneOf", [1])) == ["Carl@Example.com",
                                                                           "Ann"]
        assert await names(field("email", "isEqualTo", "carl@example.COM")) == [
            "Carl@Example.com"]
        assert await names(field("language", "hasAnyOf", ["FR"])) == ["Ann"]
        assert await names(field("status", "isNotEqualTo", "open")) == ["Bob", "Ann"]
        assert await names(field("Age", "isEqualTo", 41.0)) == ["Ann"]  # numbers as numbers
        assert await names(field("Age", "isGreaterThan", 17)) == ["Bob", "Ann"]
        assert await names(field("Age", "isLessThan", "20")) == ["Bob"]
        assert await names(field("Age", "doesNotExist")) == ["Carl@Example.com"]
        assert await names(field("Club", "isEqualTo", True)) == ["Bob"]
        assert await names(field("Club", "isEqualTo", 1)) == []  # true is not 1
        assert await names(field("Since", "isTimestampAfter", "2024-05-01T12:00:00Z")) == [
            "Ann"]
        assert await names(field("created_at", "isTimestampAfter",
                                 (T0 + timedelta(seconds=2)).isoformat())) == [
            "Carl@Example.com"]
        assert await names(field("id", "isLessThan", 3), field("id", "isGreaterThan", 1)) == [
            "Bob"]
        assert await names(tags("hasAllOf", ["vip", "LEAD"])) == ["Ann"]
        assert await names(tags("hasNoneOf", ["lead"])) == ["Carl@Example.com", "Bob"]
        assert await names(tags("exists")) == ["Bob", "Ann"]
        assert await names({"$or": [tags("doesNotExist"), field("firstName", "isEqualTo",
                                                                 "Bob")]}) == [
            "Carl@Example.com", "Bob"]
        # No contact has a lifecycle yet (always null): the negations match every contact.
        def stage(operator: str, value: Any = None) -> dict[str, Any]:
            return {"category": "lifecycle", "field": None, "operator": operator,
                    "value": value}

        for matching_none in (stage("isEqualTo", "Lead"), stage("hasAnyOf", ["Lead"]),
                              stage("exists")):
            assert await names(matching_none) == [], matching_none
        for matching_all in (stage("isNotEqualTo", "Lead"), stage("hasNoneOf", ["Lead"]),
                             stage("doesNotExist")):
            assert await names(matching_all) == everyone, matching_all
        assert await names(search="AN") == ["Ann"]
        assert await names(search="example") == ["Carl@Example.com"]
        assert await names(tags("hasAnyOf", ["vip"]), search="bo") == ["Bob"]
        query = _filter(backend, {"blocked": None})
        assert await backend.contacts.exists(query, above=2)
        assert not await backend.contacts.exists(query, above=3)

    async def test_with_tag_pages_by_id_oldest_first(self, backend: Backend) -> None:
        for i in range(5):
            await backend.add(first_name=f"c{i}", tags=["VIP"] if i != 2 else ["lead"])
        await backend.add(backend.other_ws, tags=["vip"])

        async def ids(after: int) -> list[int]:
            return [c.id for c in
                    await backend.contacts.with_tag(backend.ws, "vip", after=after, limit=2)]

        assert await ids(0) == [1, 2]
        assert await ids(2) == [4, 5]
        assert await ids(5) == []

    async def test_sparse_matches_and_gaps_are_found_across_many_ids(
        self, backend: Backend
    ) -> None:
        """Pages read in windows of ids, searches by three-letter pieces (MongoDB store): a
        filter matching 3 of 400 ids, a search matching 2 and ids freed by deletions still
        give whole pages, in order, both ways."""
        names = {5: "Zebulon", 390: "Zebra"}
        for i in range(1, 401):
            contact = await backend.add(first_name=names.get(i, f"c{i}"),
                                        tags=["rare"] if i in (3, 150, 390) else [],
                                        language="fr" if i in (7, 395) else None)
            if 200 < i <= 385:
                await backend.write(lambda s, c=contact: backend.contacts.delete(c, s))
        rare = _filter(backend, {"filter": {"$and": [
            {"category": "contactTag", "operator": "hasAnyOf", "value": ["rare"]}]}})
        everyone = ContactQuery(workspace_id=backend.ws)

        async def ids(query: ContactQuery, **kwargs: Any) -> list[int]:
            return [c.id for c in await backend.contacts.page(query, **kwargs)]

        newest = {"after": None, "before": None}
        assert await ids(rare, **newest, limit=2) == [390, 150]
        assert await ids(rare, after=150, before=None, limit=2) == [3]
        assert await ids(rare, after=None, before=3, limit=2) == [390, 150]
        assert await ids(rare, after=None, before=150, limit=5) == [390]
        assert await ids(everyone, **newest, limit=2) == [400, 399]
        assert await ids(everyone, after=386, before=None, limit=3) == [200, 199, 198]
        assert await ids(everyone, after=None, before=199, limit=3) == [387, 386, 200]
        assert await ids(everyone, after=2**63 - 1, before=None, limit=2) == [400, 399]
        assert await ids(everyone, after=None, before=2**63 - 1, limit=2) == []
        assert not await backend.contacts.exists(everyone, above=2**63 - 1)
        assert await backend.contacts.exists(rare, above=150)
        assert not await backend.contacts.exists(rare, above=390)
        for search, found in (("zeb", [390, 5]), ("ULON", [5]), ("ze", [390, 5]),
                              ("bra zeb", [390]), ("zebx", [])):
            assert await ids(_filter(backend, {"search": search}), **newest, limit=5) == found
        french = _filter(backend, {"filter": {"$and": [
            {"category": "contactField", "field": "language", "operator": "isEqualTo",
             "value": "fr"}]}})
        assert await ids(french, **newest, limit=5) == [395, 7]
        zeb = _filter(backend, {"search": "zeb"})
        assert await ids(zeb, after=390, before=None, limit=5) == [5]
        assert await ids(zeb, after=None, before=5, limit=5) == [390]
        assert await backend.contacts.exists(zeb, above=5)
        assert not await backend.contacts.exists(zeb, above=390)
        walked = [c.id for c in
                  await backend.contacts.with_tag(backend.ws, "rare", after=0, limit=2)]
        assert walked == [3, 150]
        assert [c.id for c in
                await backend.contacts.with_tag(backend.ws, "rare", after=150, limit=2)] == [390]

    async def test_a_failed_transaction_leaves_nothing(self, backend: Backend) -> None:
        kept = await backend.add(first_name="Ann")
        contact_id = await backend.contacts.next_id(backend.ws, None)
        draft = kept.model_copy(update={"id": contact_id, "first_name": "Bob"})

        async def work(session: Session) -> None:
            await backend.contacts.claim_identifier(backend.ws, _ident("email:b@example.com"),
                                                    session)
            await backend.contacts.insert(draft, session)
            await backend.contacts.replace(
                kept.model_copy(update={"first_name": "Anne", "version": 2}), session)
            raise RuntimeError("the use case fails midway")

        with pytest.raises(RuntimeError):
            await backend.write(work)
        assert await backend.contacts.get(backend.ws, contact_id) is None
        assert await backend.contacts.get(backend.ws, kept.id) == kept
        # The counter is not given back: ids are never reused.
        assert await backend.contacts.next_id(backend.ws, None) == contact_id + 1


class CatalogRepositoryContract:
    """The catalog: tags (create, assign, rename, delete) and the details layout."""

    async def test_created_tags_are_listed_by_key_in_their_workspace(
        self, backend: Backend
    ) -> None:
        for name in ("vip", "Lead"):
            tag_id = await backend.catalog.next_tag_id(backend.ws)
            await backend.write(lambda s, n=name, i=tag_id: backend.catalog.create_tag(
                backend.ws, Tag(id=i, name=n, colorCode="#aabbcc"), s))
        await backend.write(lambda s: backend.catalog.create_tag(backend.other_ws,
                                                                 Tag(id=1, name="other"), s))
        tags = await backend.catalog.tags(backend.ws)
        assert [(t.id, t.name, t.color_code) for t in tags] == [(2, "Lead", "#AABBCC"),
                                                                (1, "vip", "#AABBCC")]

    async def test_tags_entering_the_catalog_by_assignment_take_the_next_ids(
        self, backend: Backend
    ) -> None:
        cat, ws = backend.catalog, backend.ws
        assert await cat.next_tag_id(ws) == 1
        await backend.write(lambda s: cat.create_tag(ws, Tag(id=1, name="VIP"), s))
        await backend.write(lambda s: cat.ensure_tags(ws, ["vip", "New", "Trial"], s))
        await backend.write(lambda s: cat.ensure_tags(ws, ["new", "Later"], s))
        assert {t.name: t.id for t in await cat.tags(ws)} == {
            "VIP": 1, "New": 2, "Trial": 3, "Later": 4}
        assert await cat.next_tag_id(backend.other_ws) == 1  # per workspace

    async def test_a_taken_name_is_a_conflict_whatever_its_case(self, backend: Backend) -> None:
        await backend.write(lambda s: backend.catalog.create_tag(backend.ws, Tag(name="VIP"), s))
        with pytest.raises(Conflict):
            await backend.write(lambda s: backend.catalog.create_tag(
                backend.ws, Tag(name="vip"), s))
        await backend.write(lambda s: backend.catalog.create_tag(
            backend.other_ws, Tag(name="vip"), s))
        assert [t.name for t in await backend.catalog.tags(backend.ws)] == ["VIP"]

    async def test_ensure_tags_creates_missing_and_keeps_the_first_spelling(
        self, backend: Backend
    ) -> None:
        await backend.write(lambda s: backend.catalog.create_tag(backend.ws, Tag(name="VIP"), s))
        spelled = await backend.write(
            lambda s: backend.catalog.ensure_tags(backend.ws, ["vip", "New"], s))
        assert spelled == {"vip": "VIP", "new": "New"}
        assert [t.name for t in await backend.catalog.tags(backend.ws)] == ["New", "VIP"]

    async def test_restyle_keeps_the_key(self, backend: Backend) -> None:
        await backend.write(lambda s: backend.catalog.create_tag(backend.ws, Tag(name="VIP"), s))
        await backend.write(lambda s: backend.catalog.save_tag(
            backend.ws, Tag(name="VIP", emoji="⭐"), s))
        assert await backend.catalog.tags(backend.ws) == [Tag(name="VIP", emoji="⭐")]

    async def test_a_rename_to_another_key_keeps_the_tag_id(self, backend: Backend) -> None:
        cat, ws = backend.catalog, backend.ws
        await backend.write(lambda s: cat.create_tag(ws, Tag(id=7, name="old"), s))
        new = Tag(id=7, name="New", colorCode="tag-blue")

        async def start(session: Session) -> None:
            await cat.reserve(ws, new, for_key="old", session=session)
            await cat.mark(ws, "old", PendingTagChange(op="rename", tag=new), session)

        await backend.write(start)
        await backend.write(lambda s: cat.finish_rename(ws, "old", new, s))
        assert await cat.tags(ws) == [new]

    async def test_a_rename_reserves_marks_then_finishes(self, backend: Backend) -> None:
        cat, ws = backend.catalog, backend.ws
        await backend.write(lambda s: cat.create_tag(ws, Tag(name="old"), s))
        await backend.write(lambda s: cat.create_tag(ws, Tag(name="taken"), s))
        new = Tag(name="New", colorCode="#000000")
        with pytest.raises(Conflict):
            await backend.write(lambda s: cat.reserve(ws, Tag(name="TAKEN"), for_key="old",
                                                      session=s))

        async def start(session: Session) -> None:
            await cat.reserve(ws, new, for_key="old", session=session)
            await cat.mark(ws, "old", PendingTagChange(op="rename", tag=new), session)

        await backend.write(start)
        assert [t.name for t in await cat.tags(ws)] == ["old", "taken"]  # reservation hidden
        reserved = await cat.entry(ws, "new", None)
        assert reserved is not None and reserved.reserved_for == "old"
        marked = await cat.entry(ws, "old", None)
        assert marked is not None and marked.pending == PendingTagChange(op="rename", tag=new)
        # An assignment during the rename gets the new name.
        assert await backend.write(lambda s: cat.ensure_tags(ws, ["OLD"], s)) == {"old": "New"}

        await backend.write(lambda s: cat.finish_rename(ws, "old", new, s))
        assert await cat.tags(ws) == [new, Tag(name="taken")]
        assert await cat.entry(ws, "old", None) is None
        finished = await cat.entry(ws, "new", None)
        assert finished is not None and (finished.pending, finished.reserved_for) == (None, None)

    async def test_a_case_only_rename_finishes_on_the_same_key(self, backend: Backend) -> None:
        cat, ws = backend.catalog, backend.ws
        await backend.write(lambda s: cat.create_tag(ws, Tag(name="vip"), s))
        await backend.write(lambda s: cat.mark(
            ws, "vip", PendingTagChange(op="rename", tag=Tag(name="VIP")), s))
        await backend.write(lambda s: cat.finish_rename(ws, "vip", Tag(name="VIP"), s))
        assert await cat.tags(ws) == [Tag(name="VIP")]

    async def test_a_tag_being_deleted_is_refused_then_gone(self, backend: Backend) -> None:
        cat, ws = backend.catalog, backend.ws
        await backend.write(lambda s: cat.create_tag(ws, Tag(name="vip"), s))
        await backend.write(lambda s: cat.mark(ws, "vip", PendingTagChange(op="delete"), s))
        with pytest.raises(Conflict):
            await backend.write(lambda s: cat.ensure_tags(ws, ["vip"], s))
        await backend.write(lambda s: cat.delete_tag(ws, "vip", s))
        assert await cat.tags(ws) == []
        assert await cat.entry(ws, "vip", None) is None

    async def test_an_empty_layout(self, backend: Backend) -> None:
        assert await backend.catalog.layout(backend.ws) == Layout(custom_fields=[],
                                                                  field_order=None)
        assert await backend.catalog.custom_fields(backend.ws) == []

    async def test_custom_fields_keep_creation_order_and_unique_names(
        self, backend: Backend
    ) -> None:
        cat, ws = backend.catalog, backend.ws
        tier = CustomFieldDefinition(name="Tier", type="list", options=["Gold", "Silver"])
        age = CustomFieldDefinition(name="Age", type="number")
        for defn in (tier, age):
            await backend.write(lambda s, d=defn: cat.create_custom_field(ws, d, s))
        with pytest.raises(Conflict):
            await backend.write(lambda s: cat.create_custom_field(
                ws, CustomFieldDefinition(name="Age", type="text"), s))
        assert await cat.custom_fields(ws) == [tier, age]
        assert await cat.custom_fields(backend.other_ws) == []

    async def test_custom_fields_keep_their_ids_and_unique_slugs(self, backend: Backend) -> None:
        cat, ws = backend.catalog, backend.ws
        ids = [await cat.next_custom_field_id(ws) for _ in range(2)]
        assert ids == [1, 2] and await cat.next_custom_field_id(backend.other_ws) == 1
        at = CustomFieldDefinition(id=2, name="Call at", type="time", description="Best time")
        await backend.write(lambda s: cat.create_custom_field(ws, at, s))
        with pytest.raises(Conflict):  # another name, the same slug
            await backend.write(lambda s: cat.create_custom_field(
                ws, CustomFieldDefinition(id=3, name="call-at", type="text"), s))
        assert await cat.custom_fields(ws) == [at]
        assert (at.id, at.slug) == (2, "call_at")

    async def test_the_field_order_is_saved_beside_the_custom_fields(
        self, backend: Backend
    ) -> None:
        cat, ws = backend.catalog, backend.ws
        await backend.write(lambda s: cat.set_field_order(ws, ["email", "firstName"], s))
        age = CustomFieldDefinition(name="Age", type="number")
        await backend.write(lambda s: cat.create_custom_field(ws, age, s))
        await backend.write(lambda s: cat.set_field_order(ws, ["Age", "email"], s))
        assert await cat.layout(ws) == Layout(custom_fields=[age], field_order=["Age", "email"])
        assert (await cat.layout(backend.other_ws)).field_order is None
