"""What short customer answers mean, in the languages we serve (en, ru, es, de, he): yes or no, a number of
months, a frequency, a kind of damage, a request for a person. (Attempts to override instructions and the other
guardrails live in `guardrails.py`.)"""

from __future__ import annotations

import re

from schemas.domain import DamageType, Frequency

_YES_WORDS = (r"yes|yeah|yep|yup|sure|ok(ay)?|go ahead|please do|do it|confirm(ed)?|correct|right|y|"
              r"да|ага|конечно|подтверждаю|давайте|давай|продолжайте|вперёд|вперед|хорошо|ок|"
              r"s[ií]|claro|vale|de acuerdo|confirmo|adelante|dale|"
              r"ja|jawohl|genau|einverstanden|bitte|mach(en sie)? das|"
              r"כן|בטח|אוקיי|מאשר|מאשרת|בסדר|אפשר להמשיך|קדימה")
_POLITE = r"please|пожалуйста|por favor|bitte|בבקשה"
# A yes alone or a few of them ("Yes, go ahead", the button's own title typed on a channel without buttons), never a
# yes with anything else in it ("yes but from March" is not a yes to the question as asked).
_YES = re.compile(rf"^\s*({_YES_WORDS})\b([\s!.,]+({_YES_WORDS}|{_POLITE})\b)*[\s!.]*$", re.IGNORECASE)
_NO = re.compile(r"^\s*(no|nope|don'?t|cancel|stop|нет|не надо|no gracias|nein|לא)\b", re.IGNORECASE)

# Taking a request back while we wait for a detail of it ("never mind", "I don't want to change it anymore").
_WITHDRAW = re.compile(
    r"never ?mind|forget (it|that|about it)|\b(don'?t|do not|no longer) (want|need)|changed my mind|"
    r"передумал|не (нужно|надо|хочу)|забудьте|olv[ií]dalo|ya no (quiero|lo necesito)|no (quiero|hace falta)|"
    r"cambi[eé] de opini[oó]n|vergiss es|(will|möchte) (das )?nicht mehr|doch nicht|"
    r"לא משנה|תשכח|כבר לא (צריך|רוצה)|התחרטתי|לא צריך",
    re.IGNORECASE)

_HUMAN = re.compile(
    r"\b(human|real person|a person|an agent|live agent|representative|operator|speak to (someone|somebody)|"
    r"talk to (someone|somebody|a manager)|manager|"
    r"человек|оператор|живой|менеджер|"
    r"humano|persona real|agente|representante|"
    r"mensch|mitarbeiter|echte person|"
    r"נציג|בן אדם|אדם אמיתי)", re.IGNORECASE)

_MONTH_WORDS = {
    1: r"one|a|1|один|одну|uno|un|einen|ein|חודש אחד|חודש",
    2: r"two|2|два|две|dos|zwei|חודשיים|שני",
    3: r"three|3|три|tres|drei|שלושה|שלוש",
}
_MONTHS_UNIT = r"(months?|месяц\w*|mes(es)?|monat\w*|חודש\w*)"

_FREQUENCY = [
    (Frequency.QUARTERLY, r"quarter|every (3|three) months|раз в (3|три|квартал)|трехмесяч|trimestral|cada (3|tres) "
                          r"meses|viertelj|quartal|alle (3|drei) monate|כל (3|שלושה) חודשים|רבעון"),
    (Frequency.BIMONTHLY, r"every (2|two|other) months?|bi-?monthly|every other|раз в (2|два) месяца|двухмесяч|"
                          r"cada (2|dos) meses|bimestral|alle (2|zwei) monate|zweimonat|כל (2|חודשיים)|דו-?חודשי"),
    (Frequency.MONTHLY, r"monthly|every month|each month|ежемесяч|каждый месяц|mensual|cada mes|monatlich|jeden monat|"
                        r"כל חודש|חודשי"),
]

_DAMAGE = [
    (DamageType.LEAKED, r"leak|spill|протек|пролил|разлил|derram|gote|ausgelaufen|undicht|נזל|דולף"),
    (DamageType.CRUSHED, r"crush|dent|squash|смят|раздав|aplast|zerdrückt|eingedrückt|מעוך|נמעך"),
    (DamageType.SPOILED, r"spoil|mould|mold|rotten|expired|испорч|плесен|podrid|moho|caducad|verdorben|schimm|"
                         r"עובש|מקולקל|פג תוקף"),
    (DamageType.MISSING, r"missing|not in the box|wasn'?t in|нет в коробке|не хватает|falta|fehlt|חסר"),
    (DamageType.BROKEN, r"broke|broken|crack|shatter|smash|разбит|сломан|треснул|roto|rota|quebrad|zerbrochen|"
                        r"kaputt|gebrochen|שבור|נשבר|סדוק"),
]


def is_yes(text: str) -> bool:
    return bool(_YES.match(text))


def is_no(text: str) -> bool:
    return bool(_NO.match(text))


def withdraws(text: str) -> bool:
    return is_no(text) or bool(_WITHDRAW.search(text))


def asks_for_human(text: str) -> bool:
    return bool(_HUMAN.search(text))


def months_in(text: str) -> int | None:
    """1, 2 or 3 when the text names a number of months ("two months", "на 2 месяца", "drei Monate")."""
    lowered = text.lower()
    for months, words in _MONTH_WORDS.items():
        if re.search(rf"(\b|^)({words})\s*-?\s*{_MONTHS_UNIT}", lowered) or re.search(rf"^\s*({words})\s*$", lowered):
            return months
    if re.search(r"חודשיים", lowered):
        return 2
    return None


def frequency_in(text: str) -> Frequency | None:
    lowered = text.lower()
    for frequency, pattern in _FREQUENCY:
        if re.search(pattern, lowered):
            return frequency
    return None


def damage_type_in(text: str) -> DamageType:
    lowered = text.lower()
    for damage, pattern in _DAMAGE:
        if re.search(pattern, lowered):
            return damage
    return DamageType.BROKEN


# ---------------------------------------------------------------------------------------------------------------
# An address, as we ask for it ("street and number, city, postal code, country") and as people write it.
# ---------------------------------------------------------------------------------------------------------------

_COUNTRIES = {
    "germany": "DE", "deutschland": "DE", "alemania": "DE", "германия": "DE", "גרמניה": "DE",
    "israel": "IL", "израиль": "IL", "ישראל": "IL",
    "united kingdom": "GB", "great britain": "GB", "uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "united states": "US", "usa": "US", "france": "FR", "frankreich": "FR", "francia": "FR", "франция": "FR",
    "spain": "ES", "españa": "ES", "spanien": "ES", "испания": "ES", "netherlands": "NL", "the netherlands": "NL",
    "canada": "CA", "australia": "AU", "italy": "IT", "italien": "IT", "italia": "IT", "austria": "AT",
    "österreich": "AT", "switzerland": "CH", "schweiz": "CH", "belgium": "BE", "ireland": "IE", "russia": "RU",
    "россия": "RU",
}
# What customers put before the street: "I'd like to change my address to ...", "my new address is ...", "Adresse: ...".
_ADDRESS_PREAMBLE = re.compile(
    r"^.*?\b(?:address|adresse|direcci[oó]n|адрес\w*|כתובת\w*)\b.*?(?:\s(?:to|is|ist|lautet|es|será|на|היא|הוא)\s+|:\s*)",
    re.IGNORECASE)
# A postal code on its own: digits, letters and a space or dash, never a word ("Wien 1010" is a city with its code).
_POSTAL = re.compile(r"(?=.*\d)(?!.*[^\W\d_]{4})[A-Za-z0-9][A-Za-z0-9 -]{1,9}")
# A postal code written with the city: "75001 Paris", "London NW1 6XE", "Tel Aviv 6100000".
_POSTAL_CITY = re.compile(r"(?P<postal>\d[\d -]{2,8}\d)\s+(?P<city>\D.*)")
_CITY_POSTAL = re.compile(r"(?P<city>.*\D)\s+(?P<postal>[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{4,7})", re.IGNORECASE)


def address_in(text: str) -> dict[str, str | None] | None:
    """The address in an answer to "what is the new address?"; None if there is none to read."""
    parts = [p.strip() for p in re.split(r"[,\n;]", text) if p.strip()]
    if parts:
        parts[0] = _ADDRESS_PREAMBLE.sub("", parts[0], count=1).strip()
    # The street is the first part with a number in it; words before it ("new one: ...", a sentence) are not.
    first = next((i for i, part in enumerate(parts) if re.search(r"\d", part)), None)
    if first is None or len(parts) - first < 3:
        return None
    parts = [parts[first].rpartition(":")[2].strip(), *parts[first + 1:]]
    country = _country(parts[-1])
    if country is None or not parts[0]:
        return None
    rest = parts[:-1]
    postal = next((i for i in range(len(rest) - 1, 0, -1) if _POSTAL.fullmatch(rest[i])), None)
    postal_code = rest[postal] if postal is not None else None
    others = [part for i, part in enumerate(rest) if i != postal]
    if postal_code is None and len(others) >= 2:
        written = _POSTAL_CITY.fullmatch(others[-1]) or _CITY_POSTAL.fullmatch(others[-1])
        if written is not None:
            others[-1], postal_code = written["city"].strip(), written["postal"].strip()
    if len(others) < 2:
        return None
    # Without a postal code the server says whether this country needs one.
    return {"line1": others[0], "city": others[-1], "postal_code": postal_code, "country_code": country,
            **({"line2": ", ".join(others[1:-1])} if len(others) > 2 else {})}


def _country(part: str) -> str | None:
    """The country an address ends with: its name ("Germany", also "Germany - and the rest of a sentence") or code."""
    lowered = part.lower()
    named = next((code for name, code in _COUNTRIES.items() if lowered == name or re.match(
        rf"{re.escape(name)}\b(?!\s+\w+\s*$)", lowered)), None)
    return named or (part.upper() if re.fullmatch(r"[A-Za-z]{2}", part) else None)
