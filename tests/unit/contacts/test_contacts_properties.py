"""Property tests: phone and email normalisation round-trip and are idempotent."""

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from hypothesis import assume, given
from hypothesis import strategies as st

from services.contacts.domain.fields import email_match_key, normalize_email, normalize_phone

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
]
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]


@st.composite
def valid_numbers(draw):
    """A valid number of some region, as (region, E.164)."""
    region = draw(st.sampled_from(REGIONS))
    number = phonenumbers.example_number_for_type(region, draw(st.sampled_from(TYPES)))
    assume(number is not None and phonenumbers.is_valid_number(number))
    return region, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@st.composite
def written(draw, e164):
    """The E.164 number with spaces, dashes, dots or parentheses between digits."""
    out = ["+"]
    for digit in e164[1:]:
        out.append(draw(st.sampled_from(["", "", " ", "-", "."])) + digit)
    text = "".join(out)
    return draw(st.sampled_from([text, f" {text} ", text.replace("+", "00", 1) if False else text]))


@given(valid_numbers(), st.sampled_from(FORMATS))
def test_formatted_numbers_round_trip_to_the_same_e164(case, fmt):
    region, e164 = case
    text = phonenumbers.format_number(phonenumbers.parse(e164), fmt)
    assert normalize_phone(text, default_region=region) == e164


@given(valid_numbers(), st.data())
def test_punctuated_numbers_round_trip_and_normalising_is_idempotent(case, data):
    region, e164 = case
    text = data.draw(written(e164))
    once = normalize_phone(text, default_region=None)
    assert once == e164
    assert normalize_phone(once, default_region=None) == once
    assert normalize_phone(once, default_region=region) == once


def accepted(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@given(st.emails().filter(accepted), st.sampled_from(["", " ", "\t"]))
def test_email_normalisation_is_idempotent_and_keys_are_lower_case(address, padding):
    once = normalize_email(f"{padding}{address}{padding}")
    assert once == address
    assert normalize_email(once) == once
    assert email_match_key(once) == address.lower()
    assert email_match_key(email_match_key(once)) == email_match_key(once)
