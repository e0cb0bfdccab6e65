"""Personal data out of past answers before they become few-shot examples for other customers' conversations.

Two nets: what the database knows about the ticket's customer (name, e-mail, phone, addresses, order and
tracking numbers), matched exactly, and patterns for what it does not know (a name after "Hi", another
e-mail or phone, carrier tracking formats, "order #123", street addresses). Each hit becomes a placeholder
the agent can read: [NAME], [EMAIL], [PHONE], [ADDRESS], [ORDER], [TRACKING].
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

NAME, EMAIL, PHONE, ADDRESS, ORDER, TRACKING = "[NAME]", "[EMAIL]", "[PHONE]", "[ADDRESS]", "[ORDER]", "[TRACKING]"


@dataclass(frozen=True)
class KnownPersonalData:
    """One customer's data as the database holds it; every field may be empty (a ticket without a customer)."""

    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    orders: tuple[str, ...] = ()
    tracking: tuple[str, ...] = ()

    def with_email(self, email: str | None) -> KnownPersonalData:
        return KnownPersonalData(self.names, (*self.emails, email) if email else self.emails, self.phones,
                                 self.addresses, self.orders, self.tracking)


_KNOWN = """
SELECT c.id, c.first_name, c.last_name, c.email, c.phone,
       ARRAY(SELECT v FROM addresses a, unnest(ARRAY[a.line1, a.line2, a.city, a.postal_code]) AS v
             WHERE a.customer_id = c.id AND v IS NOT NULL),
       ARRAY(SELECT o.id::text FROM orders o WHERE o.customer_id = c.id),
       ARRAY(SELECT s.tracking_number FROM orders o JOIN shipments s ON s.order_id = o.id WHERE o.customer_id = c.id)
FROM customers c WHERE c.id = ANY(%s)
"""


async def known_personal_data(conn: psycopg.AsyncConnection, customer_ids: Iterable[int]
                              ) -> dict[int, KnownPersonalData]:
    cur = await conn.execute(_KNOWN, (sorted(set(customer_ids)),))
    return {row[0]: KnownPersonalData(names=(f"{row[1]} {row[2]}", row[1], row[2]), emails=(row[3],),
                                      phones=(row[4],) if row[4] else (), addresses=tuple(row[5]),
                                      orders=tuple(row[6]), tracking=tuple(row[7]))
            for row in await cur.fetchall()}


_LETTER = r"[^\W\d_]"
_WORD = rf"{_LETTER}[\w'’-]*"
# A name after a greeting or a sign-off: "Hi Luiz Otávio," "Dear שרה," "Thanks, Michelle!" (up to four words).
_GREETED = re.compile(rf"\b(?P<lead>(?:hi|hello|hey|dear|shalom|thanks|thank you|cheers|regards|best),?\s+)"
                      rf"(?P<name>{_WORD}(?:[ -]{_WORD}){{0,3}}?)(?=\s*(?:[,!.:;\n]|$))", re.IGNORECASE)
_NOT_NAMES = {"there", "team", "all", "everyone", "again", "folks", "friend", "friends", "guys", "sir", "madam",
              "customer", "you", "so", "a", "lot", "much", "in", "advance", "support", "lev", "i", "we", "my",
              "our", "please", "good", "morning", "afternoon", "evening", "ok", "okay", "yes", "no"}
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# UPU S10 (Israel Post: RR123456789IL), UPS (1Z + 16), and any 8-30 character carrier code with 4+ digits.
_TRACKING = re.compile(r"\b(?:[A-Z]{2}\d{9}[A-Z]{2}|1Z[0-9A-Z]{16}|(?=[A-Z0-9]*(?:\d[A-Z]*){4})[A-Z0-9]{8,30})\b")
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)\d[\d\s().-]{5,18}\d\b|\(?\b\d{2,4}\)?[\s.-]\d{3,4}[\s.-]\d{3,4}\b")
_LONG_NUMBER = re.compile(r"\b\d{8,}\b")  # a bare 8+ digit number: a tracking number (DHL, FedEx) or an id
_ORDER = re.compile(r"(?P<lead>\border\s*(?:number|no\.?|id)?\s*[:#]?\s*#?\s*|#\s*)\d+\b", re.IGNORECASE)
_STREET = re.compile(
    r"\b\d{1,5}[a-z]?,?\s+(?:[^\W\d_][\w'.-]*\s+){0,4}?(?:street|st\.|avenue|ave\.?|road|rd\.?|boulevard|blvd\.?|"
    r"lane|ln\.?|drive|dr\.?|court|ct\.?|way|place|pl\.?|square|terrace|flats|rue|chemin|allée|straße|strasse|"
    r"weg|laan|via|calle|rua)\b[^\n,]*"
    r"|\b(?:rue|chemin|avenue|via|calle|rua|rehov|rechov)\s+[^\W\d_][^\n,]*\d*", re.IGNORECASE)


def _exact(values: Iterable[str], placeholder: str, text: str, *, ignore_case: bool = True) -> str:
    # Longest first, so "Luiz Otávio" goes before "Luiz"; whole words only, so "Ann" leaves "annual" alone.
    for value in sorted({v.strip() for v in values if v and v.strip()}, key=len, reverse=True):
        pattern = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)", re.IGNORECASE if ignore_case else 0)
        text = pattern.sub(placeholder, text)
    return text


def _greeted_name(match: re.Match[str]) -> str:
    # A name is capitalised word by word (or written in a script without case, such as Hebrew): "Hi there," and
    # "Hi I need help." are not names.
    words = match.group("name").split()
    if words[0].lower() in _NOT_NAMES or any(word[0].islower() for word in words):
        return match.group(0)
    return match.group("lead") + NAME


def redact(text: str, known: KnownPersonalData = KnownPersonalData()) -> str:
    """`text` with the customer's data and anything that looks like personal data replaced by placeholders."""
    text = _exact(known.emails, EMAIL, text)
    text = _EMAIL.sub(EMAIL, text)
    text = _exact(known.tracking, TRACKING, text)
    text = _TRACKING.sub(TRACKING, text)
    text = _exact(known.phones, PHONE, text)
    text = _PHONE.sub(PHONE, text)
    text = _LONG_NUMBER.sub(TRACKING, text)
    text = _ORDER.sub(lambda m: m.group("lead") + ORDER, text)
    # Order ids are short numbers: only where they cannot be a quantity ("5-7 products").
    text = _exact([o for o in known.orders if len(o) >= 5], ORDER, text)
    text = _exact(known.addresses, ADDRESS, text)
    text = _STREET.sub(ADDRESS, text)
    text = _exact(known.names, NAME, text, ignore_case=False)
    return _GREETED.sub(_greeted_name, text)
