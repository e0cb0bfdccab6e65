"""The languages customers write in: detection from a short message, and each one's full-text configuration.

One home for both, shared by the router, the guardrails and the knowledge server (which searches the FAQ
translation in the customer's language).
"""

from __future__ import annotations

import re

# PostgreSQL's text search configuration per language of the help center; Hebrew has no stemmer in
# PostgreSQL, so 'simple' (lower-cased words, no stop words) is the best it offers.
TS_CONFIGS: dict[str, str] = {"en": "english", "es": "spanish", "de": "german", "ru": "russian", "he": "simple",
                              "fr": "french"}
LANGUAGES = tuple(TS_CONFIGS)
DEFAULT_LANGUAGE = "en"


# Function words plus the support vocabulary customers use most, so that short messages are placed too.
# Words shared by two of these languages ("was", "in", "box", "pause") are left out: they only blur the vote.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and is my i to you it of for please with not have this what where can how do me your "
                    "thanks thank hi hello want would like just an on but at be are did has i'm don't "
                    "cancel refund tracking package subscription skip address card charged order help yes "
                    "worries why when will got get sorry there invoice payment damaged broken".split()),
    "es": frozenset("el la los las de que y en un una por para con mi es me se lo quiero gracias hola cómo "
                    "dónde está pero del al su favor buenos días puedo caja mis pausa pausar cancelar envío pedido "
                    "dirección tarjeta cobro reembolso suscripción mes seguimiento paquete ayuda sí nadie muy "
                    "estoy voy nos cada dos meses roto rota ya solo más nunca frecuencia cancelen pausen "
                    "manden".split()),
    "de": frozenset("der die das und ist ich nicht mein meine ein eine mit für zu auf bitte danke hallo wo wie es "
                    "wir den dem kann möchte noch habe auch aber bin ihr euch keine kündigen abo paket lieferung "
                    "adresse karte monat rechnung pausieren überspringen hilfe was wann wird kam schon alles gut "
                    "jetzt soll man warum mir mich ja sind gibt vielen falscher alle zwei ab kaputt geld "
                    "guten".split()),
    "fr": frozenset("le les des et est je ne pas mon ma mes une pour avec bonjour merci où qui vous nous il "
                    "elle sur au du ce suis j'ai m'a c'est n'est colis abonnement annuler résilier livraison "
                    "carte mois fois deux remboursement aide personne quelqu'un comment la de un que nouvelle".split()),
}
# Letter sequences typical of one language; each occurrence is a weaker vote than a whole word.
_HINTS: dict[str, tuple[str, ...]] = {
    "en": ("th", "wh", "ing", "ould", "'t ", "ck"),
    "es": ("ñ", "¿", "¡", "ción", "á", "í", "ó", "ú", "ll"),
    "de": ("ä", "ö", "ü", "ß", "sch", "cht", "ung", "tz", "ei"),
    "fr": ("ç", "é", "è", "ê", "à", "eau", "oi", "qu'", "d'", "l'"),
}
_WORD = re.compile(r"[\w']+")


def detect_language(text: str) -> str:
    hebrew = sum("\u0590" <= c <= "\u05ff" for c in text)
    cyrillic = sum("\u0400" <= c <= "\u04ff" for c in text)
    latin = sum(c.isascii() and c.isalpha() for c in text)
    if hebrew and hebrew >= max(cyrillic, latin / 2):
        return "he"
    if cyrillic and cyrillic >= latin:
        return "ru"
    lowered = f" {text.lower()} "
    words = _WORD.findall(lowered)
    scores = {lang: 2.0 * sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    for lang, hints in _HINTS.items():
        scores[lang] += sum(lowered.count(h) for h in hints) / 2
    best = max(scores, key=lambda lang: scores[lang])
    # English wins ties and the no-evidence case: it is the platform's default language.
    return best if scores[best] > scores["en"] else "en"
