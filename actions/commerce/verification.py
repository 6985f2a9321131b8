"""Who owns an order: contact normalization and ownership checks (pure functions).

The bot tells order details only to the order's owner. A customer proves ownership with the
phone or email used on the order, or with the last four digits of that phone; the channel
may also vouch for the phone (WhatsApp sends the sender's number). These helpers make the
comparison robust to how people and channels write the same contact:

* Phones are compared in E.164 after parsing with `phonenumbers` (Google's libphonenumber
  metadata): "5215512345678" (WhatsApp, no "+"), "+52 1 55 1234 5678", "55 1234 5678" and
  "+525512345678" are one number. Mexico dropped the mobile "1" after +52 in 2019 but
  WhatsApp still sends it, so Mexican numbers are stored and compared without it.
* Emails are trimmed and lowercased (every mail provider the store sees treats the local
  part case-insensitively), and must look like an address.

The same functions validate the order form, so they reject rather than repair: anything
that is not clearly a phone number or an email address is None. No function here logs its
input (it is personal data).
"""

from __future__ import annotations

import hmac
import re
from typing import Protocol

import phonenumbers

from actions.commerce.backend import Address, InvalidAddress

__all__ = [
    "HasContact",
    "contact_matches",
    "normalize_email",
    "normalize_phone",
    "phone_last4",
    "validate_address",
]

# What a typed phone number may contain: digits and the usual separators. Letters, quotes,
# markup and the like mean it is something else, whatever phonenumbers would make of it.
_PHONE_CHARS = re.compile(r"\+?[\d\s().\-/]{7,32}")
# Mexico's legacy dialing prefixes, still typed from habit: 044/045 (mobile), 01 (long distance).
_MX_LEGACY_PREFIXES = ("044", "045", "01")

# A pragmatic address check (RFC 5322 allows more, but nobody types quoted local parts into
# a shop form): dot-atom local part, dot-separated LDH labels, alphabetic TLD.
_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_MAX_EMAIL_LENGTH = 254


class HasContact(Protocol):
    """Anything with the contact fields of an order (an OrderView, typically)."""

    @property
    def phone(self) -> str | None:
        """Phone in E.164, or None if the order has none."""
        ...

    @property
    def email(self) -> str | None:
        """Email address, or None if the order has none."""
        ...


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    national = str(number.national_number)
    if number.country_code == 52 and len(national) == 11 and national.startswith("1"):
        # +52 1 XX XXXX XXXX: the pre-2019 mobile prefix; the number is the same without it.
        number = phonenumbers.PhoneNumber(country_code=52, national_number=int(national[1:]))
    return number if phonenumbers.is_valid_number(number) else None


def normalize_phone(text: str | None, default_region: str = "MX") -> str | None:
    """The phone number in E.164 ("+525512345678"), or None if `text` is not a valid number.

    Numbers written without "+" are read as national numbers of `default_region` when they
    are national length (10 digits or fewer), else as international numbers first (WhatsApp
    sends "5215512345678", "14155550123"). Mexican mobiles lose the old "1" after 52.

    Args:
        text: What the customer or the channel gave.
        default_region: ISO country code for numbers written without a country code.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not _PHONE_CHARS.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15 + 2:  # E.164 allows 15 digits; "00" may precede them
        return None
    if text.startswith("+"):
        candidates = [f"+{digits}"]
    elif digits.startswith("00"):
        candidates = [f"+{digits[2:]}"]
    else:
        national = digits
        if default_region.upper() == "MX":
            for prefix in _MX_LEGACY_PREFIXES:
                if national.startswith(prefix) and len(national) == 10 + len(prefix):
                    national = national[len(prefix) :]
                    break
        candidates = [national, f"+{digits}"] if len(digits) <= 10 else [f"+{digits}", national]
    for candidate in candidates:
        number = _parse(candidate, None if candidate.startswith("+") else default_region)
        if number is not None:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def normalize_email(text: str | None) -> str | None:
    """The email address trimmed and lowercased, or None if it does not look like one."""
    if not isinstance(text, str):
        return None
    email = text.strip().lower()
    if len(email) > _MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        return None
    local, _, domain = email.rpartition("@")
    if len(local) > 64 or ".." in domain:
        return None
    return email


def phone_last4(phone: str | None) -> str:
    """The last four digits of a phone number ("" if it has fewer, or for no phone)."""
    if not isinstance(phone, str):
        return ""
    digits = re.sub(r"\D", "", phone)
    return digits[-4:] if len(digits) >= 4 else ""


def contact_matches(
    order: HasContact,
    phone: str | None = None,
    email: str | None = None,
    last4: str | None = None,
) -> bool:
    """Whether the given contact details prove ownership of `order`.

    Every detail given must match (a right phone with a wrong email is a mismatch: someone
    guessed one of them) and at least one must be given. Malformed details never match, and
    neither does a detail the order lacks: a phone or last4 never proves an order placed
    without a phone, an email never proves one placed without an email.

    Args:
        order: The order (its phone in any format normalize_phone reads, its email; either
            may be None).
        phone: A phone number in any common format (the WhatsApp sender id, say).
        email: An email address in any case.
        last4: The last four digits of the order's phone, as the customer typed them.
    """
    given = [value for value in (phone, email, last4) if value is not None]
    if not given:
        return False
    if phone is not None:
        wanted = normalize_phone(phone)
        if order.phone is None or wanted is None or wanted != normalize_phone(order.phone):
            return False
    if email is not None:
        wanted = normalize_email(email)
        if order.email is None or wanted is None or wanted != normalize_email(order.email):
            return False
    if last4 is not None:
        typed = last4.strip() if isinstance(last4, str) else ""
        expected = phone_last4(order.phone)
        if not re.fullmatch(r"\d{4}", typed) or not expected:
            return False
        # Constant time, so response timing does not leak how many digits were right.
        if not hmac.compare_digest(typed, expected):
            return False
    return True


_POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{1,9}")
_MX_POSTAL_CODE = re.compile(r"\d{5}")
_FIELD_LIMITS = {"street": 200, "city": 100}


def validate_address(address: Address) -> Address:
    """The address with fields trimmed, or InvalidAddress naming the first bad field.

    Mexican postal codes must have 5 digits; elsewhere 2-10 letters, digits, spaces or dashes.
    """
    values = {}
    for name, limit in _FIELD_LIMITS.items():
        value = " ".join(str(getattr(address, name) or "").split())
        if not value or len(value) > limit or any(char in value for char in "<>{}"):
            raise InvalidAddress(name)
        values[name] = value
    country = str(address.country or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidAddress("country")
    postal_code = str(address.postal_code or "").strip().upper()
    pattern = _MX_POSTAL_CODE if country == "MX" else _POSTAL_CODE
    if not pattern.fullmatch(postal_code):
        raise InvalidAddress("postal_code")
    return Address(values["street"], values["city"], postal_code, country)
