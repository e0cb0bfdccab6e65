"""Offline message router: a classifier trained at load time from our own phrasebooks, used without an LLM key.

Category: TF-IDF over character n-grams (robust to typos, inflection and unseen word forms in six languages)
plus word n-grams, into a logistic-loss linear model whose probability of the winner is the confidence.
Secondary intent: the message is cut into clauses at sentence ends and conjunctions, each clause is classified,
and the most probable clause intent other than the primary becomes the secondary if it is clear enough.
Urgency, language and email come from small rules: they need no training and are easy to audit.

``python -m orchestrator.router_offline`` prints the load time, latency and accuracy on our dev sets.
"""

from __future__ import annotations

import functools
import re
import statistics
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import sklearn
from pydantic import EmailStr, TypeAdapter, ValidationError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

from orchestrator.router_training_data import DATA_DIR, SEED, DevExample, load_dev, training_examples
from schemas.categories import Category, Urgency
from schemas.languages import detect_language as detect_language  # re-exported: guardrails and evals import it here
from schemas.routing import RouterOutput

# A clause must be at least this sure of a second intent, and the whole message must give that intent at least
# SECONDARY_SUPPORT: together they keep false secondaries on single-intent messages rare (measured on dev.jsonl).
SECONDARY_THRESHOLD = 0.5
SECONDARY_SUPPORT = 0.05
# A clause this sure of an intent counts as asking for it when no clause asks for the whole message's favourite.
CLAUSE_EVIDENCE = 0.5
# Clauses shorter than this are greetings, fillers or fragments ("Hi", "please"), never a second request.
MIN_CLAUSE_CHARS = 4
# Past this many clauses (a long email) the rest is quoted history or signature; it also bounds the latency.
MAX_CLAUSES = 12

# ---------------------------------------------------------------------------------------------------------------
# Text normalisation, shared by training and routing so both see the same shapes.
# ---------------------------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_REPEAT = re.compile(r"(.)\1{2,}")
_DIGITS = re.compile(r"\d+")
_COMBINING = re.compile(r"[\u0300-\u036f]")


def normalise(text: str) -> str:
    """Lower-case, fold look-alike letters, and replace what varies per customer (emails, numbers, links)."""
    # Accents dropped (NFKD, then no combining marks): customers type "envio" for "envío", "kundigen" for "kündigen".
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.lower()))
    text = _EMAIL.sub(" email ", text)
    text = _URL.sub(" link ", text)
    text = _DIGITS.sub("0", text)
    # "soooo", "!!!!!" and "????" carry tone, not intent; two repeats keep the tone visible to the model.
    return _REPEAT.sub(r"\1\1", text)


# ---------------------------------------------------------------------------------------------------------------
# Clause splitting for the secondary intent.
# ---------------------------------------------------------------------------------------------------------------

_CONJUNCTIONS = [
    # Longer alternatives first: "and also" must win over "and".
    "and also", "as well as", "and", "also", "plus", "besides that", "in addition",
    "а также", "и еще", "и ещё", "также", "кроме того", "и", "а ещё", "а еще",
    "y además", "y también", "además", "también", "y",
    "und außerdem", "außerdem", "und", "zudem", "ebenfalls",
    "et aussi", "et", "aussi", "de plus",
    "וגם", "בנוסף", "גם",
]
_CONJUNCTION_RE = "|".join(re.escape(c) for c in sorted(_CONJUNCTIONS, key=len, reverse=True))
_CLAUSE_SPLIT = re.compile(rf"[.!?;:\n]+|\s(?:{_CONJUNCTION_RE})(?=\s)", re.IGNORECASE)
# Commas separate requests ("the jar broke, skip next month") but also cut one request into bits
# ("skip, please, next month"); a comma piece becomes a clause only once it holds this many words.
MIN_CLAUSE_WORDS = 2


def _comma_clauses(sentence: str) -> list[str]:
    out: list[str] = []
    pending = ""
    for piece in sentence.split(","):
        pending = f"{pending},{piece}" if pending else piece
        if len(pending.split()) >= MIN_CLAUSE_WORDS:
            out.append(pending)
            pending = ""
    if pending and out:
        out[-1] = f"{out[-1]},{pending}"
    elif pending:
        out.append(pending)
    return out


def clauses(text: str) -> list[str]:
    pieces = (c for sentence in _CLAUSE_SPLIT.split(text) for c in _comma_clauses(sentence))
    stripped = (p.strip(" ,-–—\t") for p in pieces)
    return [p for p in stripped if len(p) >= MIN_CLAUSE_CHARS][:MAX_CLAUSES]


# "I don't want to cancel, just pause": the cancel clause is a refusal, not a second request.
_NEGATED_ACTION = re.compile(
    r"\b(?:don'?t|do not|doesn'?t|not|never|no need to|rather than|instead of|without)\s+(?:\w+\s+){0,3}?"
    r"(?:cancel|pause|paus|skip|quit|stop|unsubscrib)"
    r"|\bне\s+(?:\w+\s+){0,2}?(?:отмен|пауз|приостан|пропуск|пропуст|отпис)|\bвместо\s+отмен"
    r"|\bno\s+(?:\w+\s+){0,2}?(?:cancel|pausa|paus|saltar|dar de baja)|\b(?:en vez de|sin)\s+(?:cancel|pausar)"
    r"|\b(?:nicht|kein\w*)\s+(?:\w+\s+){0,2}?(?:kündig|pausier|pause|überspring)|\b(?:statt|ohne)\s+(?:zu\s+)?kündig"
    r"|\bpas\s+(?:\w+\s+){0,2}?(?:annul|pause|résili)"
    r"|(?:^|\s)(?:לא|אל|במקום|בלי)\s+(?:\S+\s+){0,2}?(?:לבטל|ביטול|תבטלו|להקפיא|הקפאה|לדלג)",
    re.IGNORECASE,
)


def is_negated_action(clause: str) -> bool:
    return _NEGATED_ACTION.search(clause) is not None


# ---------------------------------------------------------------------------------------------------------------
# Urgency.
# ---------------------------------------------------------------------------------------------------------------

_CRITICAL = re.compile(
    r"charge\s?back|\bdispute\b|lawsuit|\bsu(?:e|ing)\b|lawyer|attorney|legal action|small claims|\bfraud|\bscam"
    r"|allergic reaction|anaphyla|hospital|emergency room|\bpoison|\binjur|\bpolice\b|consumer protection"
    r"|мошенн|\bсуд(?:ом|е|а|ы)?\b|\bв суд|адвокат|юрист|полици|аллергическ\w* реакц|больниц|отравл"
    r"|скорую|скорой помощ|скорая помощь"
    r"|чарджбэк|fraude|estafa|demanda|denunci|abogad|reacción alérgica|urgencias|intoxicaci|contracargo"
    r"|betrug|anwalt|\bklage|verklag|polizei|allergische reaktion|krankenhaus|notaufnahme|vergiftung|rückbuchung"
    r"|verbraucherzentrale|arnaque|avocat|plainte|réaction allergique|hôpital"
    r"|הונאה|עורך דין|עו\"ד|עו״ד|תביעה|אתבע|משטרה|תגובה אלרגית|בית חולים|בית החולים|חדר מיון|הרעלה|ביטול עסקה",
    re.IGNORECASE,
)
_HIGH = re.compile(
    r"urgent|\basap\b|immediately|right now|right away|(?:third|3rd|fourth|4th|fifth) time|again and again"
    r"|still no (?:answer|reply|response)|no one (?:answers|replies)|nobody (?:answers|replies|responds)"
    r"|unacceptable|ridiculous|outrageous|disgusting|furious|worst|terrible service"
    r"|срочно|немедленно|как можно скорее|(?:третий|третье|четв[её]ртый) (?:раз|письмо)|сколько можно|безобраз"
    r"|возмутительн|никто не отвеча|ужасн|urgente|inmediat|cuanto antes|(?:tercera|cuarta) vez|inaceptable"
    r"|vergüenza|nadie (?:me )?respond|dringend|sofort|umgehend|(?:dritte|vierte)n? mal|unverschämt|inakzeptabel"
    r"|frechheit|niemand antwortet|immédiatement|(?:troisième|quatrième) fois|inadmissible|inacceptable"
    r"|דחוף|\bמיד\b|בהקדם|(?:הפעם ה|פעם )שלישית|חוצפה|שערורי|אף אחד לא עונה|לא מקובל",
    re.IGNORECASE,
)
_WANTS_HUMAN = re.compile(
    r"human|\bperson\b|someone|somebody|representative|\bagent\b|manager|человек|оператор|менеджер"
    r"|persona|alguien|agente|mensch|mitarbeiter|jemand|humain|quelqu'un|נציג|בן אדם|מישהו",
    re.IGNORECASE,
)
_LOW_URGENCY_CATEGORIES = frozenset({Category.GENERAL_QUESTION, Category.OTHER})


def is_shouting(text: str) -> bool:
    """Mostly capitals over enough letters to be deliberate ("OK" or "USA" is not shouting)."""
    cased = [c for c in text if c.isalpha() and c.lower() != c.upper()]
    return len(cased) >= 8 and sum(c.isupper() for c in cased) / len(cased) >= 0.7


def urgency(text: str, primary: Category) -> Urgency:
    if _CRITICAL.search(text):
        return Urgency.CRITICAL
    if _HIGH.search(text) or is_shouting(text) or text.count("!") >= 3:
        return Urgency.HIGH
    if primary in _LOW_URGENCY_CATEGORIES and not _WANTS_HUMAN.search(text):
        return Urgency.LOW
    return Urgency.MEDIUM


# ---------------------------------------------------------------------------------------------------------------
# Email.
# ---------------------------------------------------------------------------------------------------------------

_EMAIL_ADAPTER: TypeAdapter[str] = TypeAdapter(EmailStr)


def first_email(text: str) -> str | None:
    for match in _EMAIL.finditer(text):
        candidate = match.group(0).strip(".'-")
        try:
            return _EMAIL_ADAPTER.validate_python(candidate)
        except ValidationError:
            continue
    return None


# ---------------------------------------------------------------------------------------------------------------
# The classifier.
# ---------------------------------------------------------------------------------------------------------------


def build_pipeline() -> Pipeline:
    features = FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2,
                                  dtype=np.float32)),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=2,
                                  token_pattern=r"(?u)\b\w+\b", dtype=np.float32)),
    ])
    # Logistic loss fitted by SGD: the same model family as LogisticRegression, but a fixed handful of epochs
    # trains in a fraction of a second where lbfgs needs several (measured: ~0.5 s against ~4 s on 2 cores).
    model = SGDClassifier(loss="log_loss", alpha=2e-5, max_iter=6, tol=None, random_state=SEED)
    return Pipeline([("features", features), ("model", model)])


@dataclass(frozen=True)
class ClauseReading:
    """What the classifier makes of one clause of a message."""

    position: int
    category: Category
    probability: float
    negated: bool


@dataclass(frozen=True)
class Intents:
    primary: Category
    secondary: Category | None
    confidence: float


def _mentions(category: Category, readings: Sequence[ClauseReading]) -> list[ClauseReading]:
    return [r for r in readings if r.category == category and not r.negated]


def _asked(category: Category, readings: Sequence[ClauseReading]) -> bool:
    """Whether some clause clearly asks for this intent (a refusal does not count)."""
    return any(r.probability >= CLAUSE_EVIDENCE for r in _mentions(category, readings))


def _primary(whole: dict[Category, float], readings: Sequence[ClauseReading]) -> Category:
    """The whole message's most probable intent, unless no clause clearly asks for it but one asks for another.

    A whole-text favourite that no clause asks for is an artefact of mixing words from several sentences, or an
    intent the customer refused ("I'd like to stop completely, please don't offer me a pause"); then the
    best-ranked intent that a clause clearly asks for wins instead. One-clause messages have no readings.
    """
    ranking = sorted(whole, key=lambda c: whole[c], reverse=True)
    top = ranking[0]
    if not readings or _asked(top, readings):
        return top
    return next((c for c in ranking[1:] if c != Category.OTHER and _asked(c, readings)), top)


def _secondary(primary: Category, whole: dict[Category, float], readings: Sequence[ClauseReading]) -> Category | None:
    candidates = [
        r for r in readings
        if r.category not in (primary, Category.OTHER) and not r.negated
        and r.probability >= SECONDARY_THRESHOLD and whole[r.category] >= SECONDARY_SUPPORT
    ]
    return max(candidates, key=lambda r: r.probability).category if candidates else None


def _first_position(category: Category, readings: Sequence[ClauseReading]) -> float:
    return min((r.position for r in _mentions(category, readings)), default=float("inf"))


def resolve_intents(whole: dict[Category, float], readings: Sequence[ClauseReading]) -> Intents:
    """Primary and secondary intent from the whole message's probabilities and its clauses' readings."""
    primary = _primary(whole, readings)
    if primary == Category.OTHER:
        # "URGENT!!! nobody answers and my box hasn't come", or a long friendly email with one line of request:
        # greetings and outbursts are no request, so a clause that clearly asks for something wins.
        asked = [r for r in readings if r.category != Category.OTHER and not r.negated
                 and r.probability >= CLAUSE_EVIDENCE]
        best = max(asked, key=lambda r: r.probability).category if asked else Category.OTHER
        return _resolved(best, None, whole, readings)
    secondary = _secondary(primary, whole, readings)
    # Of two requests, the one the customer wrote first is the primary ("the jar broke, and skip next month"):
    # the whole-text model tends to favour whichever request has the more distinctive words instead.
    if secondary is not None and _first_position(secondary, readings) < _first_position(primary, readings):
        primary, secondary = secondary, primary
    return _resolved(primary, secondary, whole, readings)


def _resolved(primary: Category, secondary: Category | None, whole: dict[Category, float],
              readings: Sequence[ClauseReading]) -> Intents:
    # Confidence in the primary: from the whole text, or from its own clause when that is surer (a request
    # in one line of a long email is clearer in its clause than diluted in the whole).
    clause_best = max((r.probability for r in _mentions(primary, readings)), default=0.0)
    return Intents(primary, secondary, round(max(whole[primary], clause_best), 4))


class OfflineRouter:
    """Routes one message without any network call; build it with ``load_offline_router()``."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        model = pipeline.named_steps["model"]
        # The scores are features @ coef_.T: with coef_ stored column-major that transpose is contiguous, so scipy
        # does not copy the whole 10 x 49k matrix for every message (same numbers; 0.42 -> 0.13 ms a batch).
        model.coef_ = np.asfortranarray(model.coef_)
        self._classes = [Category(c) for c in pipeline.classes_]

    @property
    def categories(self) -> list[Category]:
        return list(self._classes)

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[Category]) -> OfflineRouter:
        pipeline = build_pipeline()
        pipeline.fit([normalise(t) for t in texts], [label.value for label in labels])
        return cls(pipeline)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per category (in ``self.categories`` order)."""
        # The same numbers as `Pipeline.predict_proba`, without its per-call machinery (joblib dispatch of the
        # feature union, output wrappers, input checks): measured 2.2 -> 1.7 ms for a message and its clauses.
        normalised = [normalise(t) for t in texts]
        union: FeatureUnion = self._pipeline.named_steps["features"]
        # The fitted steps need no re-checking of their own parameters per message, and a sparse tf-idf matrix holds
        # no NaN or infinity: skipping both checks measured 1.3 -> 1.0 ms a message.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            features = scipy.sparse.hstack([step.transform(normalised) for _, step in union.transformer_list],
                                           format="csr")
            return np.asarray(self._pipeline.named_steps["model"].predict_proba(features))

    def intents(self, text: str) -> Intents:
        parts = clauses(text)
        if len(parts) < 2:
            parts = []
        # One batch for the message and its clauses: one pass through the vectorizers is most of the cost.
        probs = self.probabilities([text, *parts])
        whole = dict(zip(self._classes, (float(p) for p in probs[0]), strict=True))
        readings = [self._reading(i, clause, row) for i, (clause, row) in enumerate(zip(parts, probs[1:], strict=True))]
        return resolve_intents(whole, readings)

    def _reading(self, position: int, clause: str, row: np.ndarray) -> ClauseReading:
        best = int(np.argmax(row))
        return ClauseReading(position, self._classes[best], float(row[best]), is_negated_action(clause))

    def route(self, text: str) -> RouterOutput:
        if not any(character.isalpha() for character in text):
            # "3", "??", "+972...": nothing to classify (the model otherwise reads digits as a street number). An
            # answer to a question we asked never gets here as a new request; the conversation routes it.
            return RouterOutput(primary=Category.OTHER, secondary=None, urgency=Urgency.LOW, email=None,
                                language=detect_language(text), confidence=1.0)
        found = self.intents(text)
        return RouterOutput(
            primary=found.primary,
            secondary=found.secondary,
            urgency=urgency(text, found.primary),
            email=first_email(text),
            language=detect_language(text),
            confidence=found.confidence,
        )


@functools.cache
def load_offline_router() -> OfflineRouter:
    examples = training_examples()
    return OfflineRouter.train([e.text for e in examples], [e.label for e in examples])


# ---------------------------------------------------------------------------------------------------------------
# Measuring it on our own dev sets.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DevReport:
    messages: int
    primary_accuracy: float
    # Share of single-intent messages that were given a secondary anyway.
    false_secondary_rate: float
    # Share of two-intent messages given both their intents (in either order; primary_accuracy covers order).
    secondary_recall: float
    language_accuracy: float
    urgency_accuracy: float | None
    p50_ms: float


def evaluate(router: OfflineRouter, rows: Sequence[DevExample]) -> DevReport:
    outputs, latencies = [], []
    for row in rows:
        started = time.perf_counter()
        outputs.append(router.route(row.text))
        latencies.append((time.perf_counter() - started) * 1000)
    pairs = list(zip(rows, outputs, strict=True))
    single = [(r, o) for r, o in pairs if r.secondary is None]
    double = [(r, o) for r, o in pairs if r.secondary is not None]
    rated = [(r, o) for r, o in pairs if r.urgency is not None]
    return DevReport(
        messages=len(rows),
        primary_accuracy=_share(r.primary == o.primary for r, o in pairs),
        false_secondary_rate=_share(o.secondary is not None for _, o in single),
        secondary_recall=_share({r.primary, r.secondary} == {o.primary, o.secondary} for r, o in double),
        language_accuracy=_share(r.language == o.language for r, o in pairs),
        urgency_accuracy=_share(r.urgency == o.urgency.value for r, o in rated) if rated else None,
        p50_ms=round(statistics.median(latencies), 2),
    )


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return round(sum(values) / len(values), 3) if values else 0.0


def main() -> None:
    started = time.perf_counter()
    router = load_offline_router()
    print(f"load (training included): {time.perf_counter() - started:.2f} s")
    for path in sorted(DATA_DIR.glob("dev*.jsonl")):
        print(f"{path.name}: {evaluate(router, load_dev(path))}")


if __name__ == "__main__":
    main()
