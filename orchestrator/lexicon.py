"""What short customer answers mean, in the languages we serve (en, ru, es, de, he): yes or no, a number of
months, a frequency, a kind of damage, a request for a person. (Attempts to override instructions and the other
guardrails live in `guardrails.py`.)"""

from __future__ import annotations

import re

from schemas.domain import DamageType, Frequency

_YES_WORDS = (r"yes|yeah|yep|yup|sure|ok(ay)?|go ahead|please do|do it|confirm(ed)?|correct|right|y|"
              r"да|ага|конечно|подтверждаю|давайте|продолжайте|хорошо|ок|"
              r"s[ií]|claro|vale|de acuerdo|confirmo|adelante|"
              r"ja|jawohl|genau|einverstanden|bitte|mach(en sie)? das|"
              r"כן|בטח|אוקיי|מאשר|מאשרת|בסדר|אפשר להמשיך")
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
    return bool(_NO.match(text) or _WITHDRAW.search(text))


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
