"""Handlers of the workspace catalog: tags, custom field definitions, the field order."""

from __future__ import annotations

from collections.abc import Callable

from services.contacts.domain.contact import Contact
from services.contacts.domain.custom_fields import (
    CustomFieldDefinition,
    ensure_custom_field_free,
    page_of_fields,
)
from services.contacts.domain.errors import NotFound
from services.contacts.domain.field_order import validate_field_order
from services.contacts.domain.permissions import ensure_may_change_settings
from services.contacts.domain.tags import (
    PendingTagChange,
    Tag,
    ensure_name_free,
    plan_tag_deletion,
    plan_tag_update,
    remove_tag_names,
    rename_tag_name,
    tag_key,
)
from services.contacts.handlers.commands import (
    CreateCustomField,
    CreateTag,
    CustomFieldPage,
    DeleteTag,
    GetCustomField,
    GetFieldOrder,
    ListCustomFields,
    ListTags,
    SetFieldOrder,
    UpdateTag,
)
from services.contacts.handlers.deps import Deps
from services.contacts.handlers.steps import save_tags
from shared.unit_of_work import Transaction


# tags -----------------------------------------------------------------------------------------
async def list_tags(query: ListTags, deps: Deps) -> list[Tag]:
    """The workspace's tag catalog."""
    return await deps.catalog.tags(query.caller.workspace_id)


async def create_tag(command: CreateTag, deps: Deps) -> Tag:
    """Add a tag to the catalog (owners, managers)."""
    ensure_may_change_settings(command.caller.role, what="tag catalog")
    workspace = command.caller.workspace_id
    # Taken outside the transaction, like contact ids: a refused create leaves a gap.
    tag = command.tag.model_copy(update={"id": await deps.catalog.next_tag_id(workspace)})

    async def work(tx: Transaction) -> Tag:
        await deps.catalog.create_tag(workspace, tag, tx.session)
        return tag  # what a keyed request's stored answer is made of

    return await deps.uow.run(work)


async def update_tag(command: UpdateTag, deps: Deps) -> Tag:
    """Rename or restyle a tag; contacts carrying a renamed tag follow, batch by batch.

    A rename marks the catalog entry and reserves the new name first (one transaction:
    a taken name is a 409 before any contact changes), then rewrites the contacts, then
    finalises the catalog. Repeating an interrupted rename finishes it.
    """
    ensure_may_change_settings(command.caller.role, what="tag catalog")
    update, workspace, catalog = command.update, command.caller.workspace_id, deps.catalog

    async def start(tx: Transaction) -> tuple[Tag, Tag]:
        entry = await catalog.entry(workspace, tag_key(update.current_name), tx.session)
        tag = plan_tag_update(entry, update)
        assert entry is not None
        if tag.name == entry.tag.name:  # a restyle: no contact changes
            await catalog.save_tag(workspace, tag, tx.session)
            return entry.tag, tag
        if tag.key != entry.key:
            target = await catalog.entry(workspace, tag.key, tx.session)
            ensure_name_free(entry, tag, target)
            if target is None:
                await catalog.reserve(workspace, tag, for_key=entry.key, session=tx.session)
        await catalog.mark(
            workspace, entry.key, PendingTagChange(op="rename", tag=tag), tx.session
        )
        return entry.tag, tag

    old, tag = await deps.uow.run(start)
    if tag.name != old.name:
        await _rewrite_tag(
            deps, workspace, old.key, lambda tags: rename_tag_name(tags, key=old.key, name=tag.name)
        )

        async def finish(tx: Transaction) -> None:
            await catalog.finish_rename(workspace, old.key, tag, tx.session)

        await deps.uow.run(finish)
    return tag


async def delete_tag(command: DeleteTag, deps: Deps) -> None:
    """Delete a tag from the catalog and from every contact carrying it.

    Marks the entry first (assigning the tag is refused from then on), removes it from
    the contacts batch by batch, then from the catalog. Repeating an interrupted
    deletion finishes it.
    """
    ensure_may_change_settings(command.caller.role, what="tag catalog")
    name, workspace, catalog = command.name, command.caller.workspace_id, deps.catalog

    async def start(tx: Transaction) -> Tag:
        entry = await catalog.entry(workspace, tag_key(name), tx.session)
        tag = plan_tag_deletion(entry, name)
        await catalog.mark(workspace, tag.key, PendingTagChange(op="delete"), tx.session)
        return tag

    tag = await deps.uow.run(start)
    await _rewrite_tag(deps, workspace, tag.key, lambda tags: remove_tag_names(tags, [tag.name]))

    async def finish(tx: Transaction) -> None:
        await catalog.delete_tag(workspace, tag.key, tx.session)

    await deps.uow.run(finish)


async def _rewrite_tag(
    deps: Deps, workspace_id: str, key: str, rewrite: Callable[[list[str]], list[str]]
) -> None:
    """Change a tag on every contact carrying it, one transaction per batch.

    Runs after the catalog entry is marked, so no contact gets the old tag any more
    (assignments conflict with the mark or follow it) and one pass reaches them all.
    """
    after = 0
    while True:
        listed = await deps.contacts.with_tag(
            workspace_id, key, after=after, limit=deps.tag_batch_size
        )
        if not listed:
            return
        after = listed[-1].id  # a case-only rename keeps the key: page by id, not by tag
        batch = [c for c in listed if rewrite(c.tags) != c.tags]
        if not batch:
            continue

        async def work(tx: Transaction, batch: list[Contact] = batch) -> None:
            for listed in batch:
                contact = await deps.contacts.get(listed.workspace_id, listed.id, tx.session)
                if contact is not None:
                    await save_tags(tx, deps, contact, rewrite(contact.tags))

        await deps.uow.run(work)


# custom fields and the field order -----------------------------------------------------------
async def list_custom_fields(query: ListCustomFields, deps: Deps) -> CustomFieldPage:
    """A page of custom field definitions by id (creation order)."""
    defs = await deps.catalog.custom_fields(query.caller.workspace_id)
    rows, has_next, has_previous = page_of_fields(
        defs, limit=query.limit, after=query.after, before=query.before
    )
    return CustomFieldPage(custom_fields=rows, has_next=has_next, has_previous=has_previous)


async def get_custom_field(query: GetCustomField, deps: Deps) -> CustomFieldDefinition:
    """One custom field definition by id (404 when the workspace has none with it)."""
    for defn in await deps.catalog.custom_fields(query.caller.workspace_id):
        if defn.id == query.custom_field_id:
            return defn
    raise NotFound.for_value(
        "id", query.custom_field_id, "is not a custom field of this workspace"
    )


async def create_custom_field(command: CreateCustomField, deps: Deps) -> CustomFieldDefinition:
    """Define a custom field (owners, managers); 409 when its name or slug is taken."""
    ensure_may_change_settings(command.caller.role, what="custom fields")
    workspace = command.caller.workspace_id
    # Taken outside the transaction, like contact ids: a refused create leaves a gap.
    field_id = await deps.catalog.next_custom_field_id(workspace)
    defn = command.definition.model_copy(update={"id": field_id})

    async def work(tx: Transaction) -> CustomFieldDefinition:
        ensure_custom_field_free(await deps.catalog.custom_fields(workspace, tx.session), defn)
        await deps.catalog.create_custom_field(workspace, defn, tx.session)
        return defn  # what a keyed request's stored answer is made of

    return await deps.uow.run(work)


async def get_field_order(query: GetFieldOrder, deps: Deps) -> list[str]:
    """The details-view order: the saved one, else standard fields then custom fields."""
    layout = await deps.catalog.layout(query.caller.workspace_id)
    return validate_field_order(layout.field_order, layout.custom_fields, complete=True)


async def set_field_order(command: SetFieldOrder, deps: Deps) -> list[str]:
    """Save the details-view order (every name a standard or defined custom field)."""
    ensure_may_change_settings(command.caller.role, what="field order")
    workspace = command.caller.workspace_id
    defs = await deps.catalog.custom_fields(workspace)
    order = validate_field_order(command.fields, defs, complete=False)

    async def work(tx: Transaction) -> None:
        await deps.catalog.set_field_order(workspace, order, tx.session)

    await deps.uow.run(work)
    return validate_field_order(order, defs, complete=True)
