"""Use cases on the workspace catalog: tags, custom field definitions, field order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.contacts.domain.contact import Contact
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import parse_model
from services.contacts.domain.settings import validate_field_order
from services.contacts.domain.tags import (
    PendingTagChange,
    Tag,
    ensure_name_free,
    parse_tag_deletion,
    parse_tag_update,
    plan_tag_deletion,
    plan_tag_update,
    remove_tag_names,
    rename_tag_name,
    tag_key,
)
from services.contacts.handlers.base import UseCases
from services.contacts.ports import (
    Session,
)
from shared.internal import Caller


class CatalogUseCases(UseCases):
    """The tag catalog (rename and delete reach every contact), custom fields, field order."""

    # the catalog ------------------------------------------------------------------------
    async def tags(self, caller: Caller) -> list[Tag]:
        """The workspace's tag catalog."""
        return await self._catalog.tags(caller.workspace_id)

    async def create_tag(self, caller: Caller, body: Any) -> Tag:
        """Add a tag to the catalog."""
        tag = parse_model(Tag, body)

        async def work(session: Session) -> None:
            await self._catalog.create_tag(caller.workspace_id, tag, session)

        await self._commit(work)
        return tag

    async def update_tag(self, caller: Caller, body: Any) -> Tag:
        """Rename or restyle a tag; contacts carrying a renamed tag follow, batch by batch.

        A rename marks the catalog entry and reserves the new name first (one transaction:
        a taken name is a 409 before any contact changes), then rewrites the contacts, then
        finalises the catalog. Repeating an interrupted rename finishes it.
        """
        update = parse_tag_update(body)
        workspace = caller.workspace_id

        async def start(session: Session) -> tuple[Tag, Tag]:
            entry = await self._catalog.entry(workspace, tag_key(update.current_name), session)
            tag = plan_tag_update(entry, update)
            assert entry is not None
            if tag.name == entry.tag.name:  # a restyle: no contact changes
                await self._catalog.save_tag(workspace, tag, session)
                return entry.tag, tag
            if tag.key != entry.key:
                target = await self._catalog.entry(workspace, tag.key, session)
                ensure_name_free(entry, tag, target)
                if target is None:
                    await self._catalog.reserve(workspace, tag, for_key=entry.key, session=session)
            await self._catalog.mark(
                workspace, entry.key, PendingTagChange(op="rename", tag=tag), session
            )
            return entry.tag, tag

        old, tag = await self._commit(start)
        if tag.name != old.name:
            await self._rewrite_tag(
                workspace, old.key, lambda tags: rename_tag_name(tags, key=old.key, name=tag.name)
            )

            async def finish(session: Session) -> None:
                await self._catalog.finish_rename(workspace, old.key, tag, session)

            await self._commit(finish)
        return tag

    async def delete_tag(self, caller: Caller, body: Any) -> None:
        """Delete a tag from the catalog and from every contact carrying it.

        Marks the entry first (assigning the tag is refused from then on), removes it from
        the contacts batch by batch, then from the catalog. Repeating an interrupted
        deletion finishes it.
        """
        name = parse_tag_deletion(body)
        workspace = caller.workspace_id

        async def start(session: Session) -> Tag:
            entry = await self._catalog.entry(workspace, tag_key(name), session)
            tag = plan_tag_deletion(entry, name)
            await self._catalog.mark(workspace, tag.key, PendingTagChange(op="delete"), session)
            return tag

        tag = await self._commit(start)
        await self._rewrite_tag(workspace, tag.key, lambda tags: remove_tag_names(tags, [tag.name]))

        async def finish(session: Session) -> None:
            await self._catalog.delete_tag(workspace, tag.key, session)

        await self._commit(finish)

    async def _rewrite_tag(
        self, workspace_id: str, key: str, rewrite: Callable[[list[str]], list[str]]
    ) -> None:
        """Change a tag on every contact carrying it, one transaction per batch.

        Runs after the catalog entry is marked, so no contact gets the old tag any more
        (assignments conflict with the mark or follow it) and one pass reaches them all.
        """
        after = 0
        while True:
            listed = await self._contacts.with_tag(
                workspace_id, key, after=after, limit=self._tag_batch
            )
            if not listed:
                return
            after = listed[-1].id  # a case-only rename keeps the key: page by id, not by tag
            batch = [c for c in listed if rewrite(c.tags) != c.tags]
            if not batch:
                continue

            async def work(session: Session, batch: list[Contact] = batch) -> None:
                for listed in batch:
                    contact = await self._contacts.get(listed.workspace_id, listed.id, session)
                    if contact is not None:
                        await self._retag(session, contact, rewrite(contact.tags))

            await self._commit(work)

    async def custom_fields(self, caller: Caller) -> list[CustomFieldDefinition]:
        """Custom field definitions in the details-view order."""
        return await self._ordered_custom_fields(caller.workspace_id)

    async def create_custom_field(self, caller: Caller, body: Any) -> CustomFieldDefinition:
        """Define a custom field."""
        defn = parse_model(CustomFieldDefinition, body)

        async def work(session: Session) -> None:
            await self._catalog.create_custom_field(caller.workspace_id, defn, session)

        await self._commit(work)
        return defn

    async def field_order(self, caller: Caller) -> list[str]:
        """The details-view order: the saved one, else standard fields then custom fields."""
        layout = await self._catalog.layout(caller.workspace_id)
        return validate_field_order(layout.field_order, layout.custom_fields, complete=True)

    async def set_field_order(self, caller: Caller, body: Any) -> list[str]:
        """Save the details-view order (every name a standard or defined custom field)."""
        fields = body.get("fields") if isinstance(body, dict) else body
        defs = await self._catalog.custom_fields(caller.workspace_id)
        order = validate_field_order(fields, defs, complete=False)

        async def work(session: Session) -> None:
            await self._catalog.set_field_order(caller.workspace_id, order, session)

        await self._commit(work)
        return validate_field_order(order, defs, complete=True)
