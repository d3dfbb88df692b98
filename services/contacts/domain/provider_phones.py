"""Phone numbers delivered by messaging providers: never refused, canonical form beside them.

A user typing a number gets it validated (``fields.normalize_phone``). A provider delivering
one (a WhatsApp ``wa_id``, a Twilio ``From``) is another matter: the customer exists and
wrote to us, so the number is stored as delivered (in ``+digits`` form) and its canonical
E.164 form is kept beside it for lookups and duplicate detection (DESIGN §1). The canonical
form of WhatsApp's legacy variants:

- Brazil (+55): mobiles delivered without the ninth digit (``+55 DD 8XXX XXXX``) get it back
  (``+55 DD 9 8XXX XXXX``) when that makes a valid mobile number;
- Mexico (+52): the old mobile prefix ``+52 1`` before the ten digits is dropped.

Any other number's canonical form is its E.164 form when libphonenumber can parse it, else
the delivered digits: numbers of other countries that merely share digits never meet.
"""

from __future__ import annotations

import re

import phonenumbers

_NOT_DIGITS = re.compile(r"\D")
_MAX_DIGITS = 15  # E.164


def delivered_phone(raw: str) -> str | None:
    """The number as delivered, in ``+digits`` form; None when it holds no number at all."""
    digits = _NOT_DIGITS.sub("", raw)[:_MAX_DIGITS]
    return f"+{digits}" if digits else None


def canonical_phone(phone: str) -> str:
    """The canonical E.164 form of a stored number (itself for every valid E.164 number)."""
    digits = _NOT_DIGITS.sub("", phone)
    if digits.startswith("55") and len(digits) == 12 and digits[4] in "6789":
        with_ninth = f"+55{digits[2:4]}9{digits[4:]}"
        if _valid_mobile(with_ninth):
            return with_ninth
    if digits.startswith("521") and len(digits) == 13:
        without_one = f"+52{digits[3:]}"
        if _valid(without_one):
            return without_one
    try:
        number = phonenumbers.parse(f"+{digits}", None)
    except phonenumbers.NumberParseException:
        return f"+{digits}"
    if phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"+{digits}"


def _valid(e164: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False


def _valid_mobile(e164: str) -> bool:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
