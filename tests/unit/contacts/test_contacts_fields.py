"""Standard field rules: phone, country, email, language, names, URLs."""

import pytest

from services.contacts.domain.errors import InvalidValue
from services.contacts.domain.fields import (
    ISO_639_1,
    country_for_phone,
    email_match_key,
    normalize_country,
    normalize_email,
    normalize_language,
    normalize_name,
    normalize_phone,
    normalize_url,
)


def test_phone_international_input_becomes_e164():
    assert normalize_phone("+33 6 12 34 56 78", default_region=None) == "+33612345678"


def test_phone_national_input_uses_the_default_region():
    assert normalize_phone("06 12 34 56 78", default_region="FR") == "+33612345678"
    assert normalize_phone("(787) 234-5678", default_region="PR") == "+17872345678"


def test_phone_national_input_without_region_is_refused():
    with pytest.raises(InvalidValue) as err:
        normalize_phone("06 12 34 56 78", default_region=None)
    assert err.value.field == "phone"
    assert err.value.status == 422
    assert err.value.message == 'phone: "06 12 34 56 78" is not a valid phone number'


@pytest.mark.parametrize("raw", ["+33 12", "hello", "", "+1 555 000 0000", "+" + "1" * 80])
def test_invalid_phone_is_refused_naming_field_and_value(raw):
    with pytest.raises(InvalidValue) as err:
        normalize_phone(raw, default_region="US")
    assert err.value.field == "phone"
    assert err.value.message.startswith("phone: ")
    assert raw[:10] in err.value.message


def test_phone_error_can_name_another_field():
    with pytest.raises(InvalidValue) as err:
        normalize_phone("12", default_region=None, field="custom_fields.Mobile")
    assert err.value.field == "custom_fields.Mobile"


@pytest.mark.parametrize(
    ("e164", "country"),
    [
        ("+33612345678", "FR"),
        ("+17872345678", "PR"),  # +1 is not the US: Puerto Rico by its area code
        ("+12125550123", "US"),
        ("+14165550123", "CA"),
        ("+441481256789", "GG"),  # +44 1481: Guernsey, not GB
        ("+447400123456", "GB"),
        ("+2472345", "SH"),  # Ascension (AC) belongs to ISO's SH
    ],
)
def test_country_is_derived_from_the_number_plan(e164, country):
    assert country_for_phone(e164) == country


@pytest.mark.parametrize("e164", ["+80012345678", "not a number"])
def test_country_is_none_for_non_geographic_or_unparsable_numbers(e164):
    assert country_for_phone(e164) is None


@pytest.mark.parametrize(
    ("raw", "code"), [("fr", "FR"), (" gg ", "GG"), ("AQ", "AQ"), ("XK", "XK")]
)
def test_country_is_upper_cased_alpha2(raw, code):
    assert normalize_country(raw) == code


@pytest.mark.parametrize("raw", ["UK", "ZZ", "FRA", "", "001", "AC"])
def test_unknown_country_is_refused(raw):
    with pytest.raises(InvalidValue) as err:
        normalize_country(raw)
    assert err.value.field == "countryCode"
    assert f'"{raw}"' in err.value.message


def test_email_is_kept_as_given_and_matched_lower_cased():
    assert normalize_email("  Ann.Smith+news@Example.COM ") == "Ann.Smith+news@Example.COM"
    assert email_match_key("Ann.Smith+news@Example.COM") == "ann.smith+news@example.com"


@pytest.mark.parametrize("raw", ["ann", "ann@", "@example.com", "a b@example.com", "Ann <a@b.co>"])
def test_invalid_email_is_refused(raw):
    with pytest.raises(InvalidValue) as err:
        normalize_email(raw)
    assert err.value.field == "email"
    assert err.value.message.startswith(f'email: "{raw}" is not a valid email address')


def test_the_language_table_has_every_iso_639_1_code():
    assert len(ISO_639_1) == 184
    assert {"en", "pt", "zh", "yo", "bh"} <= ISO_639_1


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("pt-br", "pt-BR"),
        ("pt_BR", "pt-BR"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("sr-Latn", "sr-Latn"),
        ("es-419", "es-419"),
    ],
)
def test_language_tags_get_canonical_case(raw, tag):
    assert normalize_language(raw) == tag


@pytest.mark.parametrize("raw", ["english", "xx", "en-", "en-US-x", "pt-QQ", "", "e1"])
def test_invalid_language_is_refused(raw):
    with pytest.raises(InvalidValue) as err:
        normalize_language(raw)
    assert err.value.field == "language"
    assert f'"{raw}"' in err.value.message


def test_names_are_stripped_and_blank_clears():
    assert normalize_name("  Ann ", field="firstName") == "Ann"
    assert normalize_name("   ", field="firstName") is None


def test_names_longer_than_255_are_refused():
    assert normalize_name("a" * 255, field="lastName") == "a" * 255
    with pytest.raises(InvalidValue) as err:
        normalize_name("a" * 256, field="lastName")
    assert err.value.field == "lastName"
    assert "longer than 255 characters" in err.value.message


@pytest.mark.parametrize("raw", ["ftp://x.org/a", "http://", "example.com", "http://a b.com"])
def test_invalid_urls_are_refused(raw):
    with pytest.raises(InvalidValue):
        normalize_url(raw, field="profilePic")


def test_urls_with_a_host_are_kept():
    assert normalize_url(" https://cdn.example.com/p.png ", field="x") == (
        "https://cdn.example.com/p.png"
    )
