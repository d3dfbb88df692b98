"""Standard fields end to end: phone parsing, country derivation, email, language, names.

Every refused value answers 422 naming the field and the value, stores nothing (read back)
and publishes nothing (a later change of the same contact is the next event on the topic).
"""

from __future__ import annotations

from typing import Any

from conftest import Workspace, assert_error, of_contact, types

from tests.support.events import EventTap

PR_NUMBER = "+1 787 234 5678"  # valid Puerto Rico number: +1 spans 25 regions
GG_NUMBER = "+44 1481 256789"  # valid Guernsey number: +44 is not only GB


async def test_country_is_derived_from_the_number_plan(ws: Workspace) -> None:
    cases = {
        "+33612345678": ("+33612345678", "FR"),
        PR_NUMBER: ("+17872345678", "PR"),
        GG_NUMBER: ("+441481256789", "GG"),
        "+1 202 555 0100": ("+12025550100", "US"),
        "+1 416 555 0199": ("+14165550199", "CA"),
        "+44 20 7946 0958": ("+442079460958", "GB"),
    }
    for given, (e164, country) in cases.items():
        cid = await ws.create(f"email:{country.lower()}@example.com", {"phone": given})
        contact = await ws.get(cid)
        assert (contact["phone"], contact["countryCode"]) == (e164, country), given
        assert (await ws.get(f"phone:{e164}"))["id"] == cid


async def test_manual_country_is_kept_until_cleared(ws: Workspace, tap: EventTap) -> None:
    cid = await ws.create("phone:+33612345678")
    assert (await ws.get(cid))["countryCode"] == "FR"

    # a phone change re-derives while the country is not set by hand
    await ws.update(cid, {"phone": PR_NUMBER})
    assert (await ws.get(cid))["countryCode"] == "PR"

    await ws.update(cid, {"countryCode": "es"})  # by hand (any case)
    assert (await ws.get(cid))["countryCode"] == "ES"
    await ws.update(cid, {"phone": GG_NUMBER})
    contact = await ws.get(cid)
    assert (contact["phone"], contact["countryCode"]) == ("+441481256789", "ES")
    await ws.update(cid, {"phone": None})
    assert (await ws.get(cid))["countryCode"] == "ES"
    await ws.update(cid, {"phone": "+33612345678"})
    assert (await ws.get(cid))["countryCode"] == "ES"

    # clearing it by hand hands it back to derivation, at once and for later changes
    await ws.update(cid, {"countryCode": None})
    assert (await ws.get(cid))["countryCode"] == "FR"
    await ws.update(cid, {"phone": GG_NUMBER})
    assert (await ws.get(cid))["countryCode"] == "GG"
    # removing a derived phone removes the derived country
    await ws.update(cid, {"phone": None})
    assert (await ws.get(cid))["countryCode"] is None

    # a country given with the phone at creation is a manual one
    manual = await ws.create("phone:+33 6 12 34 56 79", {"countryCode": "BE"})
    assert (await ws.get(manual))["countryCode"] == "BE"
    await ws.update(manual, {"phone": PR_NUMBER})
    assert (await ws.get(manual))["countryCode"] == "BE"

    published = await tap.wait_for(11, workspace_id=ws.id)
    assert types(of_contact(published, manual)) == ["contact.created", "contact.updated"]
    assert len(published) == 11
    events = of_contact(published, cid)
    assert [(e.data.version, tuple(getattr(e.data, "changed", ()))) for e in events] == [
        (1, ()),
        (2, ("phone", "countryCode")),
        (3, ("countryCode",)),
        (4, ("phone",)),
        (5, ("phone",)),
        (6, ("phone",)),
        (7, ("countryCode",)),
        (8, ("phone", "countryCode")),
        (9, ("phone", "countryCode")),
    ]


async def test_national_numbers_use_the_workspace_region(ws: Workspace) -> None:
    cid = await ws.create("phone:06 12 34 56 78")
    contact = await ws.get(cid)
    assert (contact["phone"], contact["countryCode"]) == ("+33612345678", "FR")
    await ws.update(cid, {"phone": "01 23 45 67 89"})
    assert (await ws.get(cid))["phone"] == "+33123456789"
    other = await ws.create("email:ann@example.com", {"phone": "07.81.23.45.67"})
    assert (await ws.get(other))["phone"] == "+33781234567"
    # an international number keeps its own country
    assert (await ws.get(await ws.create(f"phone:{PR_NUMBER}")))["countryCode"] == "PR"


async def _refused_then_sentinel(
    ws: Workspace, tap: EventTap, cid: int, attempts: list[tuple[dict[str, Any], str, str]]
) -> None:
    """Each body is a 422 naming field and value on update, create and upsert; nothing changes,
    nothing is created, and the next event of the contact is a later valid change."""
    before = await ws.get(cid)
    for body, field, shown in attempts:
        for answer in (
            await ws.owner.put(f"/v2/contact/id:{cid}", json=body),
            await ws.owner.post(f"/v2/contact/create_or_update/id:{cid}", json=body),
            await ws.owner.post("/v2/contact/email:refused@example.com", json=body),
            await ws.owner.post("/v2/contact/create_or_update/email:refused@example.com",
                                json=body),
        ):
            assert_error(answer, 422, field, shown)
    assert await ws.get(cid) == before
    assert await ws.list_ids() == [cid]
    assert_error(await ws.owner.get("/v2/contact/email:refused@example.com"), 404)

    await ws.update(cid, {"firstName": "sentinel"})
    events = await tap.wait_for(2, workspace_id=ws.id)
    assert types(events) == ["contact.created", "contact.updated"]
    assert (events[1].data.version, events[1].data.changed) == (2, ("firstName",))


async def test_invalid_phone_is_refused_and_nothing_stored(ws: Workspace, tap: EventTap) -> None:
    cid = await ws.create("email:ann@example.com", {"phone": "+33612345678"})
    await _refused_then_sentinel(ws, tap, cid, [
        ({"phone": "+33 12"}, "phone", '"+33 12"'),
        ({"phone": "not a phone"}, "phone", '"not a phone"'),
        ({"phone": "+1 555 0100"}, "phone", '"+1 555 0100"'),
        ({"phone": 33612345678}, "phone", "33612345678"),
        # a valid field with an invalid one: all or nothing
        ({"firstName": "Changed", "phone": "12"}, "phone", '"12"'),
    ])
    assert_error(await ws.owner.post("/v2/contact/phone:12", json={}), 422, "phone", '"12"')


async def test_invalid_email_is_refused_and_nothing_stored(ws: Workspace, tap: EventTap) -> None:
    cid = await ws.create("email:ann@example.com")
    await _refused_then_sentinel(ws, tap, cid, [
        ({"email": "ann@"}, "email", '"ann@"'),
        ({"email": "ann.example.com"}, "email", '"ann.example.com"'),
        ({"lastName": "Lee", "email": "a b@example.com"}, "email", '"a b@example.com"'),
    ])
    assert_error(await ws.owner.post("/v2/contact/email:nope", json={}), 422, "email", '"nope"')


async def test_invalid_language_country_names_and_picture_are_refused(ws: Workspace,
                                                                      tap: EventTap) -> None:
    cid = await ws.create("email:ann@example.com", {"language": "fr"})
    await _refused_then_sentinel(ws, tap, cid, [
        ({"language": "xx"}, "language", '"xx"'),
        ({"language": "english"}, "language", '"english"'),
        ({"language": "en-QQ"}, "language", '"en-QQ"'),
        ({"countryCode": "XX"}, "countryCode", '"XX"'),
        ({"countryCode": "FRA"}, "countryCode", '"FRA"'),
        ({"firstName": "A" * 256}, "firstName", "AAAA"),
        ({"profilePic": "ftp://example.com/a.png"}, "profilePic", '"ftp://example.com/a.png"'),
    ])


async def test_valid_languages_are_stored_in_canonical_case(ws: Workspace) -> None:
    cid = await ws.create("email:ann@example.com")
    for given, stored in (("FR", "fr"), ("pt-br", "pt-BR"), ("zh_hant_tw", "zh-Hant-TW"),
                          ("es-419", "es-419")):
        await ws.update(cid, {"language": given})
        assert (await ws.get(cid))["language"] == stored, given
