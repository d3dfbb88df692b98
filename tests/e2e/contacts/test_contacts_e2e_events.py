"""Every change of a contact is exactly one event on the topic; a change to nothing is none."""

from __future__ import annotations

from conftest import CONTACTS_TOPIC, Workspace

from tests.support.events import EventTap


async def test_one_event_per_change_and_none_for_no_ops(ws: Workspace, tap: EventTap) -> None:
    users = await ws.user_ids()
    answer = await ws.owner.post("/v2/space/custom_field", json={
        "name": "Plan", "dataType": "list", "allowedValues": ["gold", "silver"]})
    assert answer.status_code == 201, answer.text
    cid = await ws.create("email:ann@example.com", {"firstName": "Ann"})

    steps: list[tuple[str, str, object]] = [
        # (verb, identifier, body); the comment says which event it publishes
        ("PUT", f"id:{cid}", {"firstName": "Anne"}),                       # updated
        ("PUT", f"id:{cid}", {"firstName": "Anne"}),                       # no-op
        ("PUT", "email:ANN@example.com", {"firstName": " Anne "}),        # no-op (stripped)
        ("PUT", f"id:{cid}", {"phone": "+33612345678"}),                   # updated, +country
        ("PUT", "phone:06 12 34 56 78", {"phone": "+33 6 12 34 56 78"}),   # no-op (same E.164)
        ("UPSERT", "email:ann@example.com", {"firstName": "Anne"}),        # no-op
        ("UPSERT", "email:ann@example.com", {"lastName": "Lee"}),          # updated
        ("PUT", f"id:{cid}", {"custom_fields": [{"name": "Plan", "value": "gold"}]}),  # updated
        ("PUT", f"id:{cid}", {"custom_fields": [{"name": "Plan", "value": "gold"}]}),  # no-op
        ("PUT", f"id:{cid}", {"countryCode": "FR"}),   # updated: same value, now set by hand
        ("PUT", f"id:{cid}", {"countryCode": "fr"}),   # no-op
        ("TAG", f"id:{cid}", ["vip", "Newsletter"]),   # tags_changed
        ("TAG", f"id:{cid}", ["VIP"]),                 # no-op
        ("UNTAG", f"id:{cid}", ["newsletter"]),        # tags_changed
        ("UNTAG", f"id:{cid}", ["newsletter"]),        # no-op
        ("BLOCK", f"id:{cid}", None),                  # blocked
        ("BLOCK", f"id:{cid}", None),                  # no-op
        ("UNBLOCK", f"id:{cid}", None),                # unblocked
        ("UNBLOCK", f"id:{cid}", None),                # no-op
        ("PUT", f"id:{cid}", {"assignee": users["agent"]}),  # updated
        ("PUT", f"id:{cid}", {}),                      # no-op
        ("DELETE", f"id:{cid}", None),                 # deleted
    ]
    for verb, identifier, body in steps:
        path = f"/v2/contact/{identifier}"
        match verb:
            case "PUT":
                answer = await ws.owner.put(path, json=body)
            case "UPSERT":
                answer = await ws.owner.post(f"/v2/contact/create_or_update/{identifier}",
                                             json=body)
            case "TAG":
                answer = await ws.owner.post(f"{path}/tag", json=body)
            case "UNTAG":
                answer = await ws.owner.request("DELETE", f"{path}/tag", json=body)
            case "BLOCK" | "UNBLOCK":
                answer = await ws.owner.post(f"{path}/{verb.lower()}")
            case _:
                answer = await ws.manager.delete(path)
        assert answer.status_code == 200, (verb, identifier, body, answer.text)
        assert answer.json() == {"contactId": cid}

    events = await tap.wait_for(12, workspace_id=ws.id, settle_s=1.5)
    assert [(e.type, e.data.version, tuple(getattr(e.data, "changed", ()))) for e in events] == [
        ("contact.created", 1, ()),
        ("contact.updated", 2, ("firstName",)),
        ("contact.updated", 3, ("phone", "countryCode")),
        ("contact.updated", 4, ("lastName",)),
        ("contact.updated", 5, ("custom_fields.Plan",)),
        ("contact.updated", 6, ("countryCode",)),
        ("contact.tags_changed", 7, ()),
        ("contact.tags_changed", 8, ()),
        ("contact.blocked", 9, ()),
        ("contact.unblocked", 10, ()),
        ("contact.updated", 11, ("assignee",)),
        ("contact.deleted", 12, ()),
    ]
    created, *_, deleted = events
    assert created.data.contact.first_name == "Ann"
    assert created.data.contact.email == "ann@example.com"
    assert events[2].data.contact.country_code == "FR"
    assert events[4].data.contact.custom_fields == {"Plan": "gold"}
    assert (events[6].data.added, events[6].data.removed, events[6].data.tags) == (
        ("vip", "Newsletter"), (), ("vip", "Newsletter"))
    assert (events[7].data.added, events[7].data.removed, events[7].data.tags) == (
        (), ("Newsletter",), ("vip",))
    assert events[8].data.blocked_by == str(users["owner"])
    assert deleted.data.deleted_by == str(users["manager"])

    # the envelope: CloudEvents fields, the workspace, keyed by workspace + contact
    assert len({e.id for e in events}) == 12
    assert {(e.source, e.subject, e.workspaceid, e.specversion) for e in events} == {
        ("contacthub/contacts", f"contact/{cid}", ws.id, "1.0")}
    times = [e.time for e in events]
    assert times == sorted(times)
    records = [r for r in tap.records if r.key == f"{ws.id}:{cid}".encode()]
    assert len(records) == 12
    assert {r.topic for r in records} == {CONTACTS_TOPIC}
    assert len({r.partition for r in records}) == 1
