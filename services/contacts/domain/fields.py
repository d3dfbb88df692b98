"""Rules of the standard contact fields: phone, country, email, language, names, URLs.

Every function takes raw API input and returns the stored form, or raises InvalidValue
naming the field and the value. Decisions:
- a blank first/last name (only whitespace) clears the name, like null;
- countries are ISO 3166-1 alpha-2 plus XK (Kosovo, user-assigned but in wide use);
  numbers of Ascension (AC) and Tristan da Cunha (TA) derive SH, their ISO country;
- languages are `language[-Script][-REGION]` (BCP-47 subset), `_` accepted for `-`;
- texts never hold ASCII control characters (U+0000-U+001F, U+007F) nor lone surrogates
  (`check_text`, once surrounding whitespace is stripped where a field strips it);
  multi-line texts (text custom field values, descriptions) may hold tab, line feed and
  carriage return, every other text (names, emails, URLs, tags, assignee, search) none.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services.contacts.domain.errors import InvalidValue

NAME_MAX_CHARS = 255
URL_MAX_CHARS = 2048
_PHONE_INPUT_MAX_CHARS = 64

# ISO 639-1: the 183 current two-letter codes and `bh` (Bihari, withdrawn 2021, still sent).
_ISO_639_1_TABLE = """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv
    cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr
    ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw
    ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv
    ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr
    ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
    yo za zh zu
"""
ISO_639_1: frozenset[str] = frozenset(_ISO_639_1_TABLE.split())

# phonenumbers knows every ISO 3166-1 region that has telephone numbers; add the
# uninhabited ones and drop AC/TA, which are ISO "exceptionally reserved", not countries.
COUNTRY_CODES: frozenset[str] = frozenset(
    (phonenumbers.SUPPORTED_REGIONS | {"AQ", "BV", "GS", "HM", "PN", "TF", "UM"}) - {"AC", "TA"}
)
_PHONE_REGION_TO_COUNTRY = {"AC": "SH", "TA": "SH"}

_LANGUAGE_TAG = re.compile(
    r"^(?P<language>[A-Za-z]{2})(?:-(?P<script>[A-Za-z]{4}))?(?:-(?P<region>[A-Za-z]{2}|\d{3}))?$"
)


#: What no text holds: ASCII controls and lone surrogates (not Unicode text).
_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
#: The same for a multi-line text: tab, line feed and carriage return are allowed.
_NOT_MULTILINE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_text(raw: str, *, field: str, multiline: bool = False) -> str:
    """Refuse a text holding a control character (tab and line ends allowed in a
    ``multiline`` one) or a lone surrogate; return it unchanged."""
    found = (_NOT_MULTILINE_TEXT if multiline else _NOT_TEXT).search(raw)
    if found is None:
        return raw
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        problem = f"holds a lone surrogate (U+{code:04X}), which is not Unicode text"
    else:
        allowed = "only tab and line ends" if multiline else "none"
        problem = f"holds the control character U+{code:04X} ({allowed} allowed here)"
    raise InvalidValue.for_value(field, raw, problem)


def normalize_phone(raw: str, *, default_region: str | None, field: str = "phone") -> str:
    """Parse a phone number (national formats need `default_region`) and return it as E.164."""
    if not isinstance(raw, str) or len(raw) > _PHONE_INPUT_MAX_CHARS:
        raise InvalidValue.for_value(field, raw, "is not a valid phone number")
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidValue.for_value(field, raw, "is not a valid phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue.for_value(field, raw, "is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_for_phone(e164: str) -> str | None:
    """Country of a phone number by its number plan (not its calling code); None when unknown."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    if region is None or region in ("001", "ZZ"):
        return None
    return _PHONE_REGION_TO_COUNTRY.get(region, region)


def normalize_country(raw: str, *, field: str = "countryCode") -> str:
    """Return an ISO 3166-1 alpha-2 country code, upper-cased."""
    code = raw.strip().upper() if isinstance(raw, str) else None
    if code not in COUNTRY_CODES:
        raise InvalidValue.for_value(field, raw, "is not an ISO 3166-1 alpha-2 country code")
    return code


def normalize_email(raw: str, *, field: str = "email") -> str:
    """Validate an email address and return it as given, without surrounding whitespace."""
    if not isinstance(raw, str):
        raise InvalidValue.for_value(field, raw, "is not a valid email address")
    address = check_text(raw.strip(), field=field)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValue.for_value(field, raw, f"is not a valid email address ({exc})") from None
    return address


def email_match_key(email: str) -> str:
    """Key under which emails match: the whole address lower-cased (no dot or plus stripping)."""
    return email.strip().lower()


def normalize_language(raw: str, *, field: str = "language") -> str:
    """Return an ISO 639-1 code or BCP-47 `language[-Script][-REGION]` tag in canonical case."""
    match = _LANGUAGE_TAG.match(raw.strip().replace("_", "-")) if isinstance(raw, str) else None
    if match is None or match["language"].lower() not in ISO_639_1:
        raise InvalidValue.for_value(field, raw, "is not an ISO 639-1 code or BCP-47 language tag")
    region = match["region"]
    if region is not None and region.isalpha() and region.upper() not in COUNTRY_CODES:
        raise InvalidValue.for_value(field, raw, "has an unknown region subtag")
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def normalize_name(raw: str, *, field: str) -> str | None:
    """Strip a first or last name; a blank name clears it (None); at most 255 characters."""
    if not isinstance(raw, str):
        raise InvalidValue.for_value(field, raw, "is not a string")
    name = check_text(raw.strip(), field=field)
    if len(name) > NAME_MAX_CHARS:
        raise InvalidValue.for_value(field, raw, f"is longer than {NAME_MAX_CHARS} characters")
    return name or None


def normalize_url(raw: str, *, field: str) -> str:
    """Return an http(s) URL with a host, stripped; at most 2048 characters."""
    url = check_text(raw.strip(), field=field) if isinstance(raw, str) else ""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:  # e.g. a malformed IPv6 host or port
        scheme, host = "", None
    too_long = len(url) > URL_MAX_CHARS
    if too_long or scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise InvalidValue.for_value(field, raw, "is not an http(s) URL with a host")
    return url
