"""Numbers delivered by providers: kept as delivered, canonical form beside (DESIGN §1)."""

import pytest

from services.contacts.domain.provider_phones import canonical_phone, delivered_phone


@pytest.mark.parametrize(
    ("raw", "delivered"),
    [
        ("5511987654321", "+5511987654321"),  # a WhatsApp wa_id: digits without +
        ("+1 (415) 555-0100", "+14155550100"),  # Twilio-style, with punctuation
        ("whatsapp:+33612345678", "+33612345678"),
        ("no digits here", None),
        ("1" * 40, "+" + "1" * 15),  # never longer than E.164 allows
    ],
)
def test_a_delivered_number_is_kept_in_plus_digits_form(raw: str, delivered: str | None) -> None:
    assert delivered_phone(raw) == delivered


@pytest.mark.parametrize(
    ("phone", "canonical"),
    [
        ("+551187654321", "+5511987654321"),  # Brazilian mobile without its ninth digit
        ("+5511987654321", "+5511987654321"),  # already canonical
        ("+551134567890", "+551134567890"),  # a São Paulo landline: no ninth digit to add
        ("+5215512345678", "+525512345678"),  # Mexican mobile with the old 1
        ("+525512345678", "+525512345678"),
        ("+33612345678", "+33612345678"),
        ("+12", "+12"),  # unparseable: the digits themselves
    ],
)
def test_the_canonical_form_joins_the_legacy_variants_only(phone: str, canonical: str) -> None:
    assert canonical_phone(phone) == canonical


def test_numbers_of_other_countries_that_share_digits_do_not_meet() -> None:
    # The same 12 digits after another calling code are another number.
    assert canonical_phone("+441187654321") != canonical_phone("+551187654321")
    assert canonical_phone("+5415512345678") != canonical_phone("+5215512345678")
