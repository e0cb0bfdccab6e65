"""Reading a support manager's question into slots: what is measured, over which tickets, grouped and ordered how,
for which period.

Every recognizer consumes the words it understood. Whatever is left once they have all run is either grammar (a
short list of words that never change an answer: "how", "the", "did") or a word the parser did not understand, and
such a word makes the answer a refusal that names it, rather than a number that silently ignored it. Subjects the
support tables do not hold (forecasts, revenue, products, staff, shipments) are refused with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from schemas.categories import Category
from schemas.domain import Channel

# support_threads_data keeps the last 90 days (semantic_layer/tables/support_threads_data.json).
RETENTION_DAYS = 90

# The bit order of every set-valued parameter of the vetted queries; tests check the SQL lists the same values.
CATEGORIES = tuple(c.value for c in Category)
CHANNELS = tuple(c.value for c in Channel)
URGENCIES = ("low", "medium", "high", "critical")
LANGUAGES = ("en", "de", "he", "fr", "es", "ru", "nl", "pl", "it", "pt", "uk", "ar", "ja", "zh", "ko", "tr", "sv", "da",
             "no", "fi", "cs", "hu", "el", "ro", "yi")
STATUSES = ("new", "ai_answered", "draft_created", "sent", "escalated", "closed")
HANDLED = ("ai", "ai_edited", "human", "unanswered")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MODELS = ("gpt-4o", "gpt-5.1", "gpt-5.2", "gpt-5-mini", "claude-sonnet-4.5", "claude-haiku-4.5", "gpt-4-other",
          "gpt-5-other", "claude-other", "other", "none")
TASK_TYPES = ("identify_customer", "track_shipment", "pause_subscription", "resume_subscription", "skip_month",
              "change_frequency", "change_address", "create_damage_claim", "request_photos", "propose_resolution",
              "create_cancel_link", "cancel_subscription", "report_missing_package", "search_knowledge", "handoff")
TASK_STATUSES = ("pending", "running", "succeeded", "failed", "cancelled")
ERROR_KINDS = ("carrier_timeout", "customer_not_identified", "policy_violation", "confirmation_expired", "other_error")
VERDICTS = ("ai_better", "equivalent", "human_better")

MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"), start=1)}
MONTHS |= {name[:3]: number for name, number in list(MONTHS.items())} | {"sept": 9}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
# 'may' and 'march' are also verbs: a month name needs a preposition or a year next to it.
_MONTH_ALONE = "|".join(sorted((m for m in MONTHS if m not in ("may", "mar", "march")), key=len, reverse=True))
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20,
           "thirty": 30, "sixty": 60, "ninety": 90}
_NUMBER = r"\d+(?:\.\d+)?|" + "|".join(sorted(NUMBERS, key=len, reverse=True))
UNIT_MINUTES = {"second": 1 / 60, "minute": 1, "min": 1, "hour": 60, "hr": 60, "day": 1440, "week": 10080}
_UNIT = r"(second|minute|min|hour|hr|day|week)s?"

# Words that carry no meaning of their own in these questions: what is left besides them was not understood.
FILLER = frozenset("""
a an the of in on at for to from by with into as about via through
how many much what which who whom whose when where was were is are be been being am do does did done doing
have has had having get gets got getting receive received receiving come came comes coming arrive arrived
arriving land landed hit reach reached make made happen happened
we us our ours you your i me my they them their it its there this that these those here
and or but so if then also just only still actually really overall altogether whole entire
can could would should will shall might must
ticket tickets request requests conversation conversations case cases inquiry inquiries enquiry enquiries
contact contacts thread threads query queries issue issues problem problems question questions message support
please show tell give list find know see let want need like
number count total amount sum
ones one kind type types sort used
end up ended ending wind bring brings brought generate generates generated produce produces produced
see saw seen sees makes make making cause causes caused given gets has across all went go goes gone gives gave
complaint complaints then among amongst within
""".split())


class Unanswerable(Exception):
    """The question asks for something the data cannot give; the message says why."""


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    label: str


@dataclass
class Filter:
    """One restriction: `slot` takes any of `values` (or none of them, negated); `at` is where it was said."""

    slot: str
    values: tuple[str, ...]
    negated: bool = False
    at: int = 0
    loose: bool = False  # read from a loose phrase ("the AI answered"); a more specific filter may replace it
    places: tuple[int, ...] = ()  # where each value was said, when there are several


@dataclass
class Parsed:
    question: str
    text: str
    subject: str = "tickets"  # tickets | tasks | comparisons | rules | messages
    metric: str | None = None  # a column of the subject's vetted query, or a special (see offline.plan)
    aggregate: str | None = None  # avg | median | total
    unit: str | None = None  # second | minute | hour | day, when the question asks for one
    share: bool = False  # "what share / percentage of ..."
    dimension: str | None = None  # group by
    direction: str | None = None  # most | least
    polarity: str | None = None  # best | worst: the direction depends on the metric
    filters: list[Filter] = field(default_factory=list)
    thresholds: dict[str, int] = field(default_factory=dict)  # vetted-query parameter -> minutes
    stuck_hours: int | None = None
    period: Period | None = None
    periods: tuple[Period, Period] | None = None  # a change from the first to the second
    groups: tuple[str, str] | None = None  # "how many more <a> than <b>": values of `dimension`
    group_split: int = 0  # where "than" was said
    counting: bool = False  # "how many", "number of": a count is asked
    often: bool = False  # "most often": with a filter, how often within each group
    breakdown: bool = False  # "by channel", "for each category": every group, not the top one
    part: str | None = None  # the filter slot a share is of, when the question names it ("AI-alone rate")
    not_understood: list[str] = field(default_factory=list)

    def values(self, slot: str) -> tuple[str, ...]:
        return tuple(v for f in self.filters if f.slot == slot and not f.negated for v in f.values)

    def has(self, slot: str) -> bool:
        return any(f.slot == slot for f in self.filters)


class Words:
    """The question's text; what a recognizer understood is blanked out so nothing reads it twice."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.view = text

    def take(self, pattern: str) -> re.Match[str] | None:
        match = re.search(_gaps(pattern), self.view)
        if match is not None and match.end() > match.start():
            self.view = self.view[: match.start()] + "\0" * (match.end() - match.start()) + self.view[match.end():]
        return match

    def take_all(self, pattern: str) -> list[re.Match[str]]:
        found = []
        while (match := self.take(pattern)) is not None:
            found.append(match)
        return found

    def sees(self, pattern: str) -> bool:
        return re.search(_gaps(pattern), self.view) is not None

    def leftovers(self) -> list[str]:
        return [w for w in re.findall(r"[^\s\0]+", self.view) if w not in FILLER]


@lru_cache(maxsize=4096)
def _gaps(pattern: str) -> str:
    """A space in a pattern also spans words already consumed: "slowest median first response" still reads as
    "slowest first response" once "median" went to the aggregate."""
    # Not inside a lookaround: "low (?= tickets)" must not see "low rated tickets" as "low tickets".
    out: list[str] = []
    stack: list[bool] = []  # per open group: is it a lookaround?
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if char == "(":
            stack.append(pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i))
        elif char == ")" and stack:
            stack.pop()
        if char == " " and not any(stack):
            optional = pattern[i + 1:i + 2] == "?"
            out.append("[\\s\\0]*" if optional else "[\\s\\0]+")
            i += 2 if optional else 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def normalize(question: str) -> str:
    text = question.lower()
    for old, new in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("–", " "), ("—", " "), (" - ", " "),
                     ("&", " and "),
                     ("e-mail", "email"), ("can't", "can not"), ("won't", "will not"), ("n't", " not")):
        text = text.replace(old, new)
    text = re.sub(r"[\"']other[\"']", " other_category ", text)
    text = re.sub(r"\b(i\.e|e\.g|vs|approx)\.", r"\1 ", text)
    text = re.sub(r"\b(what|how|that|who|where|when)s\b", r"\1 is", text)
    # "AI agents" answering tickets are the AI, not human agents; "AI agent tasks" stay tasks.
    text = re.sub(r"\bai agents?\b(?!\s+(?:tasks?|actions?|steps?|tool))", "ai", text)
    text = re.sub(r"(\w)'s\b", r"\1", text)  # possessive or "is": neither changes the answer
    text = re.sub(r"\b([1-5])-([1-5])\b", r"\1 to \2", text)  # "1-2 stars"; dates keep their hyphens
    text = re.sub(r"(?<=[a-z])-|-(?=[a-z])", " ", text)  # week-over-week, 5-star, human-handled; not 2026-11-03
    text = re.sub(r"[?!,;:()\"'/]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # sentence full stops, not decimal points
    return " ".join(text.split())


def number(word: str) -> float:
    return float(word) if word[0].isdigit() else float(NUMBERS[word])


# --- subjects the support tables do not hold --------------------------------------------------------------------

OUT_OF_SCOPE: list[tuple[str, str]] = [
    (r"\b(forecast\w*|predict\w*|projection|project(ed)? (volume|tickets)|extrapolat\w*|will|gonna)\b|"
     r"\b(expect|expected|anticipate|likely to|going to|gonna|will (we|there|it) (be|get|have|see|receive))\b.*"
     r"\b(next|coming|upcoming|future|tomorrow|202[7-9])\b|"
     r"\b(next|coming|upcoming|following) (week|month|year|quarter|season|holiday)s?\b|\btomorrow\b",
     "that is a forecast, and the data hold past tickets only"),
    (r"\b(why|reason why|what caused|cause of)\b",
     "the data record what happened to each ticket, not why; try the categories or the ratings"),
    (r"\b(taste|tasty|flavou?rs?|delicious|products?|snacks?|sweets?|halva|dates|olive oil|spices?)\b",
     "products, their contents and their taste are not in the support tables (ratings rate the support answer)"),
    (r"\b(carriers?|couriers?|postage|shipping (cost|fee|price|rate|charge)s?)\b.*\b(charge\w*|cost\w*|fees?|"
     r"pric\w*|bill\w*|invoice\w*|paid|pay|spend|spent)\b|\b(charge\w*|cost\w*|fees?|paid|pay|spend|spent)\b.*\b"
     r"(carriers?|couriers?|postage|shipping)\b(?!.*\bai\b)",
     "carriers' charges are not in the support tables (the only cost recorded is the AI model's)"),
    (r"\b(deliver(y|ies)|transit|shipping) (times?|speed|duration)|how long (does|do|did|will) (the )?(deliver|"
     r"shipping|ship|a box|boxes|packages?|parcels?)|\b(boxes|packages|parcels|orders|shipments) (did|do|have|were|"
     r"are) (we )?(ship|send|sen[dt]|deliver)|how many (boxes|packages|parcels|orders|shipments)\b|\bshipped\b",
     "shipments, orders and delivery times are not in the support tables, only the tickets about them"),
    (r"\b(revenue|sales|profit|income|money|price|prices|pricing|lifetime value|ltv|aov|order value|mrr|arr|"
     r"refund(ed)? (amount|total|value|sum)|how much (did we|we) (lose|lost|refund\w*|earn\w*|make|made))\b",
     "there is no revenue, price or refund amount in the support tables"),
    (r"\b(churn\w*|subscribers?|subscriber base|active subscriptions|retention rate|how many (customers|people) "
     r"(cancel+ed|left|unsubscribed|stayed))\b",
     "subscriptions and cancellations themselves are not in the support tables, only the tickets asking for them"),
    (r"\b(campaigns?|marketing|advert\w*|ads|utm|referr\w*|promo\w*|coupons?|discount codes?|newsletters?|"
     r"influencers?|affiliates?)\b", "there is no marketing or campaign attribution in the support tables"),
    (r"\bhow many (human |support |live )?(agents|staff|employees|team members|reps|representatives|people (work|"
     r"are on))\b|\b(size of|people on) (the |our )?(support )?team\b",
     "the support staff are not in the support tables (only whether a human answered each ticket)"),
    (r"\b(hours?|time) (do|does|did) (our |the )?(agents?|staff|team|people|humans?|employees?) (spend|work|log)|"
     r"\b(shifts?|working hours|workload per|overtime|headcount|salary|salaries|payroll)\b",
     "staff working time is not recorded"),
    (r"\b(which|what|best|worst|top|fastest|slowest|each|per|individual|every|named?) (human |support )?"
     r"(agents?|staff( members?)?|employees?|team members?|reps?|representatives?|persons?|people|colleagues?)\b"
     r"(?! (tasks?|actions?))|\b(best|worst|highest|lowest) rated (person|agent|employee|member|rep)|"
     r"\bwho (on|in|from) (the |our )?(support )?team\b|\bwhich (of )?(our )?(humans|people)\b",
     "human agents are not identified per ticket (only handled_by = human), so nothing can be said per person"),
    (r"\b(mention\w*|contain\w*|keywords?|the words?|say(s|ing)?|said|talk(s|ed|ing)? about|complain(s|ed|ing)? "
     r"about|refer(s|red|ring)? to)\b",
     "searching what messages say is not among the vetted queries (the categories group tickets by topic)"),
    (r"\b(country|countries|from (israel|the us|the usa|america|canada|the uk|britain|england|germany|france|"
     r"australia|europe|abroad|overseas)|in (israel|the us|the usa|america|canada|the uk|britain|england|germany|"
     r"france|australia|europe)|(israeli|american|canadian|british|australian|european) customers)\b",
     "a ticket's country is known only for identified customers (unknown senders, about a fifth, have none), so a "
     "count by country would leave tickets out"),
    (r"\b(german|french|spanish|dutch|polish|italian|russian|israeli|hebrew|portuguese|english|british|american) "
     r"(customers|people|users|clients|subscribers|buyers)\b",
     "it could mean the customers' country or their language: ask for tickets in a language (e.g. 'tickets in "
     "German'); countries are known only for identified customers"),
    (r"\b(age|gender|income|birthday)s?\b", "customers' demographics are not in the support tables"),
    (r"\b(nps|net promoter|review(s)? on|trustpilot|google reviews?|app store)\b",
     "only the customer's 1-5 rating of the support answer is recorded"),
    (r"\bweather|stock price|exchange rate|bitcoin\b", "that is not about support"),
]


# --- periods ---------------------------------------------------------------------------------------------------

def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_start(moment: datetime, back: int = 0) -> datetime:
    index = moment.year * 12 + moment.month - 1 - back
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(start: datetime) -> datetime:
    return _month_start(start.replace(day=28) + timedelta(days=4))


def _month(name: str, year: str | None, now: datetime) -> datetime:
    """The named month of `year`, or without a year the most recent one that has begun ('October' in November is
    this October; 'December' is last December)."""
    month = MONTHS[name]
    if year:
        return now.replace(year=int(year), month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    start = now.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    return start if start <= now else start.replace(year=now.year - 1)


def _date(month: str, day: str, year: str | None, now: datetime) -> datetime:
    first = _month(month, year, now)
    return first.replace(day=int(day))


def _black_friday(year: int, now: datetime) -> datetime:
    november = now.replace(year=year, month=11, day=1, hour=0, minute=0, second=0, microsecond=0)
    thanksgiving = november + timedelta(days=(3 - november.weekday()) % 7 + 21)
    return thanksgiving + timedelta(days=1)


def _fmt_day(moment: datetime) -> str:
    return f"{moment:%B} {moment.day}, {moment.year}"


def _span_label(start: datetime, end: datetime) -> str:
    """'September–October 2026' for whole months, else the days."""
    if start.day == 1 and end.day == 1 and start.hour == end.hour == 0:
        last = end - timedelta(days=1)
        if (start.year, start.month) == (last.year, last.month):
            return f"{start:%B %Y}"
        years = f" {start.year}" if start.year != last.year else ""
        return f"{start:%B}{years}–{last:%B %Y}"
    last = end - timedelta(microseconds=1)
    return f"{_fmt_day(start)} – {_fmt_day(last)}"


def read_periods(words: Words, now: datetime) -> list[Period]:
    """Every period the question names, in order; consumes them."""
    found: list[tuple[int, Period]] = []
    today = _day(now)
    monday = today - timedelta(days=today.weekday())
    quarter = _month_start(now, (now.month - 1) % 3)

    def add(match: re.Match[str] | None, period: Period) -> None:
        if match is not None:
            found.append((match.start(), period))

    num = rf"(?:{_NUMBER})"
    # Rolling windows: "the last 30 days", "past two weeks", "last 24 hours".
    while m := words.take(rf"\b(?:(?:in|during|for|over|within|from) )?(?:the )?(?:last|past|previous|recent|"
                          rf"preceding) ({num}) (hour|day|week|month)s?\b"):
        n, unit = number(m[1]), m[2]
        start = now - timedelta(hours=n) if unit == "hour" else now - timedelta(days=n) if unit == "day" else \
            now - timedelta(weeks=n) if unit == "week" else _shift_months(now, int(n))
        add(m, Period(start, now, f"the last {m[1] if m[1][0].isdigit() else int(n)} {unit}s"))
    while m := words.take(r"\b(?:(?:in|during|for|over|within) )?(?:the )?past (day|week|month)\b"):
        start = {"day": now - timedelta(days=1), "week": now - timedelta(days=7), "month": _shift_months(now, 1)}
        add(m, Period(start[m[1]], now, f"the past {m[1]} (since {_fmt_day(start[m[1]])})"))
    if m := words.take(r"\b(?:so far )?(?:(?:in|during|for) )?(?:the )?day before yesterday\b"):
        add(m, Period(today - timedelta(days=2), today - timedelta(days=1), "the day before yesterday"))
    if m := words.take(r"\b(?:(?:in|during|for|on) )?yesterday\b"):
        add(m, Period(today - timedelta(days=1), today, "yesterday"))
    if m := words.take(r"\b(?:so far )?(?:(?:in|during|for) )?today(?: so far)?\b"):
        add(m, Period(today, now, "today"))
    if m := words.take(r"\b(?:so far )?(?:(?:in|during|for) )?(?:this|the current) week(?: so far| to date)?\b|"
                       r"\bweek to date\b|\bwtd\b"):
        add(m, Period(monday, now, "this week"))
    if m := words.take(r"\b(?:(?:in|during|for) )?(?:the )?(?:last|previous|prior) (?:calendar )?week\b"):
        add(m, Period(monday - timedelta(days=7), monday, "last week"))
    if m := words.take(r"\b(?:(?:in|during|for) )?(?:the )?week before last\b"):
        add(m, Period(monday - timedelta(days=14), monday - timedelta(days=7), "the week before last"))
    if m := words.take(r"\b(?:so far )?(?:(?:in|during|for) )?(?:this|the current) month(?: so far| to date)?\b|"
                       r"\bmonth to date\b|\bmtd\b"):
        add(m, Period(_month_start(now), now, "this month"))
    if m := words.take(r"\b(?:(?:in|during|for) )?(?:the )?(?:last|previous|prior) (?:calendar )?month\b"):
        add(m, Period(_month_start(now, 1), _month_start(now), "last month"))
    if m := words.take(r"\b(?:so far )?(?:(?:in|during|for) )?(?:this|the current) quarter(?: so far| to date)?\b"):
        add(m, Period(quarter, now, "this quarter"))
    if m := words.take(r"\b(?:(?:in|during|for) )?(?:the )?(?:last|previous|prior) quarter\b"):
        add(m, Period(_shift_months(quarter, 3), quarter, "last quarter"))
    if m := words.take(r"\b(?:(?:in|during|for) )?q([1-4])(?: (20\d\d))?\b"):
        year = int(m[2]) if m[2] else now.year
        start = now.replace(year=year, month=3 * int(m[1]) - 2, day=1, hour=0, minute=0, second=0, microsecond=0)
        add(m, Period(start, _shift_months(start, -3), f"Q{m[1]} {year}"))
    if m := words.take(r"\b(?:so far )?(?:(?:in|during|for) )?(?:this|the current) year(?: so far| to date)?\b|"
                       r"\byear to date\b|\bytd\b"):
        add(m, Period(now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0), now, "this year"))
    if m := words.take(r"\b(?:(?:in|during|for) )?(?:the )?(?:last|previous|prior) year\b"):
        start = now.replace(year=now.year - 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        add(m, Period(start, start.replace(year=now.year), f"{now.year - 1}"))
    while m := words.take(r"\b(?:on |during )?(last|this|past|on) (monday|tuesday|wednesday|thursday|friday|saturday|"
                          r"sunday)\b(?!s)"):
        back = (today.weekday() - WEEKDAYS.index(m[2].capitalize())) % 7
        if m[1] == "last" and back == 0:
            back = 7
        day = today - timedelta(days=back)
        add(m, Period(day, day + timedelta(days=1), f"{m[2].capitalize()}, {_fmt_day(day)}"))
    while m := words.take(r"\b(?:on |during |for )?black friday(?: (20\d\d))?\b"):
        day = _black_friday(int(m[1]) if m[1] else now.year, now)
        if day > now and not m[1]:
            day = _black_friday(day.year - 1, now)
        add(m, Period(day, day + timedelta(days=1), f"Black Friday ({_fmt_day(day)})"))
    # Dates: "between November 1 and November 15", "since November 20", "on Nov 3", "2026-11-03".
    day_re = rf"(?:(?:the )?(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH})|({_MONTH}) (\d{{1,2}})(?:st|nd|rd|th)?)" \
             rf"(?: (20\d\d))?|(20\d\d)-(\d\d)-(\d\d)"

    def day_of(parts: tuple[str | None, ...]) -> datetime:
        d1, m1, m2, d2, year, iso_y, iso_m, iso_d = parts
        if iso_y:
            return now.replace(year=int(iso_y), month=int(iso_m or 1), day=int(iso_d or 1), hour=0, minute=0,
                               second=0, microsecond=0)
        return _date(m1 or m2 or "", d1 or d2 or "1", year, now)

    while m := words.take(rf"\b(?:from |between )(?:{day_re}) (?:to|through|thru|until|till|and|-) (?:{day_re})\b"):
        first, last = day_of(m.groups()[:8]), day_of(m.groups()[8:])
        add(m, Period(first, last + timedelta(days=1), f"{_fmt_day(first)} – {_fmt_day(last)}"))
    until = r"(?:to|through|thru|until|till|and|-)"
    while m := words.take(rf"\b(?:from |between )?(?:the )?(\d{{1,2}})(?:st|nd|rd|th)? {until} (?:the )?(\d{{1,2}})"
                          rf"(?:st|nd|rd|th)? (?:of )?({_MONTH})(?: (20\d\d))?\b|\b(?:from |between )?({_MONTH}) "
                          rf"(\d{{1,2}})(?:st|nd|rd|th)? {until} (\d{{1,2}})(?:st|nd|rd|th)?(?: (20\d\d))?\b"):
        month, year = m[3] or m[5], m[4] or m[8]
        first = _date(month, m[1] or m[6], year, now)
        last = _date(month, m[2] or m[7], year, now)
        add(m, Period(first, last + timedelta(days=1), f"{_fmt_day(first)} – {_fmt_day(last)}"))
    while m := words.take(rf"\bsince (?:{day_re})\b"):
        first = day_of(m.groups()[:8])
        add(m, Period(first, now, f"since {_fmt_day(first)}"))
    while m := words.take(rf"\b(?:on |for |during )?(?:{day_re})\b"):
        first = day_of(m.groups()[:8])
        add(m, Period(first, first + timedelta(days=1), _fmt_day(first)))
    # Months: "from September to October", "September through October 2026", "since June", "in October".
    month_re = rf"({_MONTH})(?: (20\d\d))?"
    while m := words.take(rf"\b(?:from |between )?(?:the )?(?:start of |beginning of )?{month_re} (?:to|through|thru|"
                          rf"until|till|and|-) (?:the )?(?:end of )?{month_re}\b"):
        first = _month(m[1], m[2] or m[4], now)
        last = _month(m[3], m[4], now)
        if last < first and not m[4]:
            first = first.replace(year=first.year - 1)
        add(m, Period(first, _next_month(last), _span_label(first, _next_month(last))))
    while m := words.take(rf"\bsince (?:the )?(?:start |beginning )?(?:of )?{month_re}\b"):
        first = _month(m[1], m[2], now)
        add(m, Period(first, now, f"since {_fmt_day(first)}"))
    while m := words.take(rf"\b(?:(?:in|during|for|of|over|throughout|across) (?:the month of )?{month_re}|"
                          rf"({_MONTH_ALONE}) (20\d\d)|({_MONTH}) (20\d\d)|({_MONTH_ALONE}))\b"):
        name = m[1] or m[3] or m[5] or m[7]
        year = m[2] or m[4] or m[6]
        first = _month(name, year, now)
        add(m, Period(first, _next_month(first), f"{first:%B %Y}"))
    while m := words.take(r"\b(?:(?:in|during|for|of|over|throughout) )?(?:the year )?((?:19|20)\d\d)\b"):
        start = now.replace(year=int(m[1]), month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        add(m, Period(start, start.replace(year=start.year + 1), m[1]))
    return [period for _, period in sorted(found, key=lambda item: item[0])]


def _shift_months(moment: datetime, months: int) -> datetime:
    """`moment` moved back `months` calendar months (forward when negative), the day clamped to the month."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = index // 12, index % 12 + 1
    day = min(moment.day, (_next_month(moment.replace(year=year, month=month, day=1)) - timedelta(days=1)).day)
    return moment.replace(year=year, month=month, day=day)


def check_period(period: Period, now: datetime) -> Period:
    """The period clipped to now, or Unanswerable when the data cannot cover it."""
    oldest = now - timedelta(days=RETENTION_DAYS)
    if period.start >= now:
        raise Unanswerable(f"{period.label} has not happened yet; the data end now ({_fmt_day(now)})")
    if period.end <= period.start:
        raise Unanswerable(f"'{period.label}' is not a period I can read (it ends before it starts)")
    if period.start < oldest:
        raise Unanswerable(
            f"{period.label} starts before the data do: tickets are kept for {RETENTION_DAYS} days (from "
            f"{_fmt_day(oldest)})" + (", so it would be undercounted" if period.end > oldest else ""))
    if period.end > now:
        return Period(period.start, now, f"{period.label} (to date)")
    return period


# --- thresholds: "more than 3 days", "within an hour" ------------------------------------------------------------

def read_thresholds(words: Words, parsed: Parsed) -> None:
    num = rf"(?:{_NUMBER})"
    pattern = (rf"\b(?:(?:that |which )?(?:took|take|takes|taking|waited|wait|waiting|were|was|been|sat|sitting|"
               rf"stayed|stuck|open|unresolved|unanswered) )?(?:for )?(?:(more|longer|over|greater|less|fewer|"
               rf"shorter|under) than|over|under|within|in under|in less than|at least|at most|up to|no more than)"
               rf" ({num}) {_UNIT}\b")
    while m := words.take(pattern):
        minutes = round(number(m[2]) * UNIT_MINUTES[m[3]])
        whole = m[0]
        over = bool(re.search(r"\b(more|longer|over|greater|at least)\b", whole)) and "no more" not in whole
        if words.sees(r"\b(stuck|waiting|pending|unanswered|still open|open tickets?|unresolved|backlog)\b") or \
                re.search(r"\b(stuck|sat|sitting|open|unresolved|unanswered|waiting)\b", whole):
            words.take(r"\b(stuck|waiting|pending|unanswered|still open|open|unresolved|backlog)\b")
            parsed.stuck_hours = max(1, round(minutes / 60))
            continue
        if words.take(r"\b(?:to |before (?:being |it was |they were )?|until )(?:get )?(?:be )?(?:fully )?"
                      r"(?:resolv\w*|clos\w*|fix\w*|solv\w*|done)\b|\bresolution( time)?\b|\b(?:resolv|clos)\w*\b"):
            parsed.thresholds["resolved_over_minutes" if over else "resolved_within_minutes"] = minutes
        elif words.take(r"\b(?:for |to (?:get )?|before )?(?:a |the |their )?(?:first )?(?:respon\w*|repl\w*|answer\w*"
                        r"|hear back)\b"):
            parsed.thresholds["response_over_minutes" if over else "response_within_minutes"] = minutes
        else:
            raise Unanswerable(f"I could not tell what should take '{whole.strip()}' (resolving, a first response, "
                               "or being stuck?)")


# --- the parser ---------------------------------------------------------------------------------------------------

CATEGORY_WORDS: list[tuple[str, str]] = [
    (r"other_category|(?:the )?other category|category other", "other"),
    (r"general (?:questions?|inquir\w*|enquir\w*)|questions? about (?:the )?(?:box(?:es)?|contents|kosher|gifts?|"
     r"plans?)|kosher(?: certifications?| certificates?| status| questions?)?|gift(?:s|ing)?(?: box(?:es)?)?",
     "general_question"),
    (r"shipping(?: inquir\w*| questions?)?|deliver(?:y|ies)|where is my box|tracking(?: questions?)?|customs|"
     r"late (?:box|package|parcel)s?|lost (?:box|package|parcel)s?", "shipping_inquiry"),
    (r"(?:change of |changing (?:the |their )?|updat\w* (?:the |their )?|new )?(?:shipping )?address(?:es)?"
     r"(?: changes?| updates?)?", "change_address"),
    (r"(?:change of |changing (?:the |their )?|(?:delivery )?)?frequency(?: changes?)?", "change_frequency"),
    (r"skip(?:s|ped|ping)?(?: (?:a|the|one|their))?(?: (?:month|box|delivery))?(?: requests?)?", "skip_month"),
    (r"damage[ds]?(?: (?:items?|goods|boxes))?(?: claims?)?|broken(?: items?)?|leak\w*|crushed|missing items?",
     "damaged_item"),
    (r"payments?(?: (?:issues?|problems?|failures?))?|billing|(?:double |over)?charge[sd]?|declined(?: cards?)?|"
     r"(?:credit )?cards?|refunds?", "payment_issue"),
    (r"paus(?:e|es|ed|ing)(?: (?:a |the |their |my )?subscriptions?)?(?: requests?)?", "pause_subscription"),
    (r"cancel(?:l?ations?|l?ing|l?ed|s)?(?: (?:a |the |their |my )?subscriptions?)?(?: requests?)?",
     "cancel_subscription"),
]
CHANNEL_WORDS: list[tuple[str, str]] = [
    (r"whats ?app", "whatsapp"),
    (r"emails?|mail", "email"),
    (r"web ?widget|website(?: chat| widget)?|web ?site|live chat|chat widget|site chat|web chat", "web_widget"),
    (r"facebook(?: messenger)?|messenger|fb", "facebook"),
    (r"telegram", "telegram"),
    (r"sms|text messages?|texts?", "sms"),
    (r"(?:the )?api", "api"),
]
LANGUAGE_WORDS: dict[str, str] = {
    "english": "en", "german": "de", "hebrew": "he", "french": "fr", "spanish": "es", "russian": "ru",
    "dutch": "nl", "polish": "pl", "italian": "it", "portuguese": "pt", "ukrainian": "uk", "arabic": "ar",
    "japanese": "ja", "chinese": "zh", "korean": "ko", "turkish": "tr", "swedish": "sv", "danish": "da",
    "norwegian": "no", "finnish": "fi", "czech": "cs", "hungarian": "hu", "greek": "el", "romanian": "ro",
    "yiddish": "yi",
}
_LANGUAGE = "|".join(LANGUAGE_WORDS)
WEEKDAY_WORDS = {name.lower(): name for name in WEEKDAYS}
TASK_WORDS: list[tuple[str, str]] = [
    (r"identif\w* (?:the |a )?customers?|customer identification|look(?:ed|ing)? up (?:the |a )?customers?",
     "identify_customer"),
    (r"track(?:ed|ing|s)? (?:a |the )?(?:shipments?|packages?|parcels?|boxes|box|deliver\w*)|shipment tracking|"
     r"tracking", "track_shipment"),
    (r"resum\w*(?: (?:a |the )?subscriptions?)?", "resume_subscription"),
    (r"paus\w*(?: (?:a |the )?subscriptions?)?", "pause_subscription"),
    (r"skip\w*(?: (?:a |the )?months?)?", "skip_month"),
    (r"chang\w* (?:the )?frequenc\w*|frequency changes?", "change_frequency"),
    (r"chang\w* (?:the |an? )?address\w*|address changes?", "change_address"),
    (r"(?:creat\w* |open\w* |fil\w* )?(?:a |the )?damage claims?|claims?", "create_damage_claim"),
    (r"request\w* (?:for )?photos?|photo requests?|ask\w* for photos?", "request_photos"),
    (r"propos\w* (?:a )?resolutions?", "propose_resolution"),
    (r"cancel(?:lation)? links?", "create_cancel_link"),
    (r"cancel\w* (?:a |the )?subscriptions?|cancellations?", "cancel_subscription"),
    (r"report\w* (?:a )?missing (?:packages?|parcels?|box\w*)|missing (?:packages?|parcels?) reports?",
     "report_missing_package"),
    (r"search\w* (?:the )?(?:knowledge(?: base)?|faq|help center)|knowledge (?:base )?search\w*", "search_knowledge"),
    (r"hand ?offs?|hand\w* (?:it |them |(?:the |a )?(?:conversation|ticket|chat|case|customer) )?(?:over|off)"
     r"(?: to (?:a |the )?(?:humans?|agents?|person|people|staff))?", "handoff"),
]
ERROR_WORDS: list[tuple[str, str]] = [
    (r"(?:the )?carrier(?: api)?(?: (?:timed out|timeouts?|time ?outs?|was slow|did not answer))?|"
     r"timed out|time ?outs?", "carrier_timeout"),
    (r"(?:the )?customers? (?:was |were |is |being )?(?:not|never|could not be) (?:being |be )?identified|"
     r"(?:the )?customers? (?:not )?identified|no account|unknown customers?|unidentified customers?",
     "customer_not_identified"),
    (r"(?:the )?(?:skip )?(?:cut ?off|policy)(?: policy| violations?| rules?| deadline)?|too late", "policy_violation"),
    (r"(?:the )?confirmations? (?:had )?expired|expired confirmations?", "confirmation_expired"),
]
# Exact model names first, then the families ("Claude" is every Claude model).
MODEL_WORDS: list[tuple[str, tuple[str, ...], str]] = [
    (r"(?:the )?old (?:gpt ?4o )?(?:single model )?pipeline|gpt ?4o(?: pipeline)?", ("gpt-4o",), "gpt-4o"),
    (r"gpt ?5\.1", ("gpt-5.1",), "gpt-5.1"),
    (r"gpt ?5\.2", ("gpt-5.2",), "gpt-5.2"), (r"gpt ?5 mini", ("gpt-5-mini",), "gpt-5-mini"),
    (r"claude sonnet(?: 4[.-]5)?|sonnet(?: 4[.-]5)?", ("claude-sonnet-4.5",), "claude-sonnet-4.5"),
    (r"claude haiku(?: 4[.-]5)?|haiku(?: 4[.-]5)?", ("claude-haiku-4.5",), "claude-haiku-4.5"),
    (r"claude|anthropic", ("claude-sonnet-4.5", "claude-haiku-4.5", "claude-other"), "a Claude"),
    (r"gpt ?5", ("gpt-5.1", "gpt-5.2", "gpt-5-mini", "gpt-5-other"), "a GPT-5"),
    (r"gpt ?4", ("gpt-4o", "gpt-4-other"), "a GPT-4"),
    (r"openai|gpt", ("gpt-4o", "gpt-5.1", "gpt-5.2", "gpt-5-mini", "gpt-4-other", "gpt-5-other"), "an OpenAI"),
]
DIMENSIONS: list[tuple[str, str]] = [
    (r"categor(?:y|ies)|topics?|reasons?|kinds? of (?:tickets?|requests?)|types? of (?:tickets?|requests?)|"
     r"subjects?", "category"),
    (r"channels?|sources?|platforms?", "channel"),
    (r"urgency(?: levels?)?|urgenc(?:y|ies)|priorit(?:y|ies)", "urgency"),
    (r"languages?", "language"),
    (r"statuse?s?|states?", "status"),
    (r"day of (?:the )?week|weekdays?|days? of (?:the )?week", "weekday"),
    (r"hours? of (?:the )?day|time of day|hours?", "hour"),
    (r"(?:ai )?models?|llms?", "model"),
    (r"weeks?", "week"),
    (r"months?", "month"),
    (r"days?|dates?", "day"),
]
TASK_DIMENSIONS: list[tuple[str, str]] = [
    (r"(?:task|action|tool|step)s?(?: types?)?|types? of (?:tasks?|actions?)|kinds? of (?:tasks?|actions?)",
     "task_type"),
    (r"categor(?:y|ies)|topics?", "category"),
    (r"errors?(?: kinds?| types?)?|kinds? of errors?|reasons?|causes?", "error"),
    (r"days?|dates?", "day"),
]
# "not", "except", "other than" before a value: everything but it.
NOT = r"(?:not|non|except(?: for)?|excluding|other than|besides|apart from|outside(?: of)?)"
MOST = r"most(?: often| frequently| common(?:ly)?| frequent| popular| used)?|highest|largest|biggest|greatest|" \
       r"top|maximum|max|busiest|heaviest|leading|peak"
LEAST = r"(?<!at )least(?: often| frequently| common(?:ly)?| frequent| popular| used)?|fewest|lowest|smallest|" \
        r"minimum|min|quietest|calmest|rarest|least busy|slowest"


def parse(question: str, now: datetime) -> Parsed:
    """The slots of `question`; Unanswerable (with the reason) when the data cannot answer it."""
    text = normalize(question)
    parsed = Parsed(question=question, text=text)
    for pattern, reason in OUT_OF_SCOPE:
        if re.search(pattern, text):
            raise Unanswerable(reason)
    words = Words(text)
    read_thresholds(words, parsed)
    _read_how(words, parsed)
    _read_subject(words, parsed)
    periods = read_periods(words, now)
    _read_early(words, parsed)
    _read_change(words, parsed, periods, now)
    _read_group_names(words, parsed)
    if parsed.subject == "tasks":
        _read_task_slots(words, parsed)
    elif parsed.subject == "comparisons":
        _read_comparison_slots(words, parsed)
    elif parsed.subject == "rules":
        _read_rule_slots(words, parsed)
    elif parsed.subject == "messages":
        _read_message_slots(words, parsed)
    else:
        _read_rating_values(words, parsed)
        _read_ticket_metric(words, parsed)
    _read_grouping(words, parsed)
    _read_filters(words, parsed)
    if parsed.groups is not None:
        _read_groups(parsed)
    _read_grammar(words)
    parsed.not_understood = words.leftovers()
    return parsed


def _read_how(words: Words, parsed: Parsed) -> None:
    """How a figure is aggregated: average, median, total; and whether a share is asked."""
    take = words.take
    if take(r"\b(?:on )?average\b|\bavg\b|\bmean\b|\bon a typical\b"):
        parsed.aggregate = "avg"
    if take(r"\bmedian\b|\btypical(?:ly)?\b|\bmiddle\b"):
        parsed.aggregate = "median"
    if take(r"\bin total\b|\btotal\b|\baltogether\b|\bcombined\b|\bsum of\b"):
        parsed.aggregate = parsed.aggregate or "total"
    if take(r"\b(?:what|which) (?:share|percentage|percent|proportion|fraction|part|portion)\b|"
            r"\b(?:share|percentage|percent|proportion|fraction|portion) of\b|\bhow often\b|"
            r"\b(?:in |as a )?(?:percent(?:age)?|%|per cent)\b|\bshares?\b|\bproportions?\b|\bfractions?\b"):
        parsed.share = True
    parsed.counting = bool(re.search(r"\bhow many\b|\bnumber of\b|\bcount\b", words.text))
    if m := take(r"\b(?:in|as) (milliseconds|seconds|minutes|hours|days|ms)\b|"
                 r"\bhow many (seconds|minutes|hours|days)\b"):
        parsed.unit = {"ms": "millisecond"}.get(m[1] or m[2], (m[1] or m[2]).rstrip("s"))


def _read_subject(words: Words, parsed: Parsed) -> None:
    """What is counted: tickets (the default), the AI's tasks, AI-vs-human comparisons, category rules, messages."""
    if words.take(r"\b(?:ai |agent |the ai )*(?:agent )?(?:tasks?|actions?|tool calls?)\b(?: (?:the )?ai (?:agent )?"
                  r"(?:ran|took|performed|did|executed))?|\btimes? (?:did|does|has) (?:the )?ai(?: agent)?\b|"
                  r"\bdid the ai(?: agent)? (?=(?:successfully |actually )?(?:track|creat|identif|pause|skip|resume|"
                  r"hand(?:ed|ing|s)? ?(?:off|over)|handoff|request|propose|report|search|cancel))"):
        parsed.subject = "tasks"
        if re.search(r"\b(?:which|what) (?:ai )?(?:agent )?(?:tasks?|actions?|tool)\b", words.text):
            parsed.dimension = "task_type"
    elif words.sees(r"\bsimilarity\b") or words.sees(
            r"\b(?:reviewers?|verdicts?|equivalent|comparisons?)\b|\b(?:sent|approved|used) (?:unchanged|as is|"
            r"verbatim)\b|\bunchanged\b") and words.sees(r"\b(?:answers?|ones?|replies|drafts?|tickets?)\b"):
        parsed.subject = "comparisons"
    elif words.sees(r"\b(?:judged|reviewed|verdicts?|better|worse|as good as|equivalent|similar\w*|comparisons?|"
                    r"beat|outperform\w*)\b") \
            and words.sees(r"\b(?:ai|human|humans|person|agent)(?: written)?(?: answers?| ones?| replies| reply| "
                           r"responses?| drafts?)?\b") and words.sees(r"\b(?:answers?|ones?|replies|reply|responses?|"
                                                                     r"drafts?|judged|reviewed|verdicts?|similar\w*|"
                                                                     r"comparisons?|beat|outperform\w*)\b"):
        parsed.subject = "comparisons"
    elif words.take(r"\b(?:category )?(?:rules?|instructions?|prompts?|guidelines?)(?: versions?)?(?: (?:for|given to) "
                    r"the ai)?\b"):
        parsed.subject = "rules"
    elif words.take(r"\bmessages?\b(?: (?:were |did )?(?:exchanged|sent|written))?"):
        parsed.subject = "messages"


def _read_task_slots(words: Words, parsed: Parsed) -> None:
    if words.take(r"\b(?:tasks?|actions?) per ticket\b|\bper ticket\b"):
        parsed.metric = "tasks_per_ticket"
        words.take(r"\b(?:average )?number of\b")
    elif words.take(r"\bhow many (?:tickets|conversations|cases)\b") or words.sees(r"\btickets? (?:had|with|where)\b"):
        parsed.metric = "tickets"  # tickets with such a task, each counted once
        words.take(r"\bat least (?:one|1|an?)\b|\bany\b|\bone or more\b")
    # Errors first: "the skip cut-off policy" is an error, not the skip_month task.
    for pattern, value in ERROR_WORDS:
        if m := words.take(rf"\b(?:(?:because|due to|with|after|when|caused by|by|from) )?(?:of )?(?:the )?"
                           rf"(?:{pattern})\b"):
            parsed.filters.append(Filter("error", (value,), at=m.start()))
            parsed.filters.append(Filter("task_status", ("failed",), at=m.start()))
    for pattern, value in TASK_WORDS:
        if m := words.take(rf"\b(?:{pattern})\b"):
            parsed.filters.append(Filter("task_type", (value,), at=m.start()))
            break
    if words.take(r"\b(?:failure|fail|error) rates?\b"):
        parsed.metric = "failure_pct"
    elif parsed.share and words.sees(r"\bfail\w*\b"):
        parsed.metric = "failure_pct"
        words.take(r"\bfail\w*\b")
    elif words.take(r"\bsuccess rates?\b"):
        parsed.metric = "success_pct"
    elif m := words.take(r"\b(?:takes?|took|runs?|ran) (?:the )?(longest|shortest|most time|least time)\b"):
        parsed.metric = "median_duration_ms" if parsed.aggregate == "median" else "avg_duration_ms"
        parsed.direction = "most" if m[1] in ("longest", "most time") else "least"
    elif words.take(r"\b(?:duration|how long (?:do|does|did) (?:they|it|tasks?|actions?) (?:take|run))\b"):
        parsed.metric = "median_duration_ms" if parsed.aggregate == "median" else "avg_duration_ms"
    if m := words.take(r"\b(?:fail(?:s|ed|ing|ure|ures)?|errored|errors?|went wrong|did not work|broke)\b"):
        if parsed.metric not in ("failure_pct", "success_pct"):
            parsed.filters.append(Filter("task_status", ("failed",), at=m.start()))
    if m := words.take(r"\b(?:succe(?:ss|ssful|ssfully|eded|ed|eds)|worked|completed|went through|ok)\b"):
        parsed.filters.append(Filter("task_status", ("succeeded",), at=m.start()))
    if m := words.take(r"\b(?:were |was )?(?:cancel+ed|aborted)\b"):
        parsed.filters.append(Filter("task_status", ("cancelled",), at=m.start()))
    if m := words.take(r"\b(?:still )?(?:pending|running|unfinished|in progress)\b"):
        parsed.filters.append(Filter("task_status", ("pending", "running"), at=m.start()))
    words.take_all(r"\b(?:ai|agent|the ai agent|for (?:a |the )?customers?|on (?:a |the )?tickets?|times?|run|ran|"
                   r"performed|did|do|does|create[ds]?|creating|made)\b")


def _read_comparison_slots(words: Words, parsed: Parsed) -> None:
    verdicts = [
        (r"(?:the )?humans?(?: written)?(?: answers?| ones?| replies| reply)? (?:was |were |is |are )?"
         r"(?:judged |rated |"
         r"found )?better(?: than (?:the )?ai(?: answers?| ones?)?)?|(?:the )?humans? (?:beat|outperform\w*|did better "
         r"than|won against) (?:the )?ai|(?:the )?ai(?: answers?| ones?)? (?:was |were |"
         r"is |are )?(?:judged |rated |found )?worse(?: than (?:the )?humans?(?: answers?| ones?)?)?|human[_ ]better",
         "human_better"),
        (r"(?:the )?ai(?: written)?(?: answers?| ones?| replies| reply)? (?:was |were |is |are )?"
         r"(?:judged |rated |found )?better(?: than (?:the )?humans?(?: answers?| ones?)?)?|(?:the )?ai (?:beat|"
         r"outperform\w*|did better than|won against) (?:the )?humans?|(?:the )?ai(?: written)?(?: answers?| ones?| "
         r"replies| reply)? (?:was |were |is |are )?(?:judged |rated |found )?better"
         r"(?: than (?:the )?humans?(?: answers?| ones?)?)?|(?:the )?humans?(?: answers?| ones?)? (?:was |were |is |"
         r"are )?(?:judged |rated |found )?worse(?: than (?:the )?ai(?: answers?| ones?)?)?|ai[_ ]better",
         "ai_better"),
        (r"(?:judged |rated |found )?(?:equivalent|as good as|equally good|the same quality|a tie|tied)"
         r"(?: (?:to|as) (?:the )?(?:ai|humans?)(?: answers?| ones?)?)?", "equivalent"),
    ]
    for pattern, value in verdicts:
        if m := words.take(rf"\b(?:{pattern})\b"):
            parsed.filters.append(Filter("verdict", (value,), at=m.start()))
    if words.take(r"\bsimilar(?:ity)?(?: scores?)?\b|\bhow close\b|\bdiffer(?:ence|ent)?\b"):
        parsed.metric = "avg_similarity"
        words.take(r"\b(?:on )?average\b|\bmean\b")
    if words.take(r"\b(?:sent |approved |used )?(?:unchanged|as is|verbatim|without (?:any )?(?:edits?|changes?))\b"):
        parsed.metric = "unchanged"
    words.take_all(r"\b(?:the |what )?(?:ai|human|humans|person|agent)(?: written)?(?: answers?| ones?| replies| reply|"
                   r" responses?| drafts?| sent| wrote)?\b|\b(?:between|and|answers?|drafts?|replies|responses)\b|"
                   r"\b(?:judged|rated|reviewed|found|considered|marked|labell?ed|verdicts?|reviewers?|by (?:the )?"
                   r"reviewers?|compared|had|an|a|sent|approved|marked?|"
                   r"comparisons?|"
                   r"to|than|those)\b")


def _read_rule_slots(words: Words, parsed: Parsed) -> None:
    if parsed.counting and words.take(r"\b(?:been )?(?:changed|updated|revised|edited|rewritten|modified)\b"):
        parsed.metric = "revisions"
    elif words.take(r"\b(?:go|went|gone|come|came) (?:live|into (?:force|effect))\b|\b(?:written|created|changed|"
                    r"updated|introduced|started|activated|effective|in (?:force|effect|use) since)\b|\bsince when\b"):
        parsed.metric = "written_on"
    elif words.take(r"\bhow many versions?\b|\bversions?\b") or parsed.counting:
        parsed.metric = "versions"
    if m := words.take(r"\b(?:current|active|live|in (?:force|effect|use)|latest|newest)\b"):
        parsed.filters.append(Filter("active", ("active",), at=m.start()))
    words.take_all(r"\b(?:for|of|to|given|the|ai|when|date|day|version|times?|been)\b")


def _read_message_slots(words: Words, parsed: Parsed) -> None:
    if parsed.aggregate == "avg" or words.take(r"\bper (?:ticket|conversation|thread)\b"):
        parsed.aggregate = "avg"
    for pattern, metric in ((r"(?:from |by |did )?(?:the )?customers?(?: send| sent| write| wrote)?", "customer"),
                            (r"(?:from |by |did )?(?:the )?ai(?: send| sent| write| wrote)?", "ai"),
                            (r"(?:from |by |did )?(?:the )?(?:humans?|agents?|staff)(?: send| sent| write| wrote)?",
                             "human")):
        if words.take(rf"\b{pattern}\b"):
            parsed.metric = metric
            break
    words.take_all(r"\b(?:in|on|each|a|per|ticket|tickets|conversation|exchanged|sent|written|send|write)\b")


def _read_change(words: Words, parsed: Parsed, periods: list[Period], now: datetime) -> None:
    """One period, or two with a change between them ("from October to November, in percent")."""
    if parsed.subject == "rules":  # "how many times were the rules changed" counts versions
        if len(periods) > 1:
            raise Unanswerable("it names more than one period")
        parsed.period = check_period(periods[0], now) if periods else None
        return
    changes = words.take_all(r"\b(?:(?<!address.)(?<!frequency.)change[ds]?(?! (?:of )?(?:the |their )?(?:address|"
                             r"frequency|delivery))|grow|grew|growth|increase[ds]?|decrease[ds]?|drop(?:ped)?|fall|fell|"
                             r"rise|rose|differ(?:ence)?|compare[ds]?|comparison|versus|vs|against|(?:go|went|gone) "
                             r"(?:up|down)(?: or (?:up|down))?|week over week|wow)\b")
    change = changes[0] if changes else None
    if change is not None:
        parsed.metric = parsed.metric or "change"
    if change is not None and len(periods) == 1 and re.search(r"\bfrom\b|\bto\b|\band\b", words.text) and \
            periods[0].end - periods[0].start > timedelta(days=32):
        # "from October to November" read as one span: the change is between its first and last month.
        span = periods[0]
        last_start = _month_start(span.end - timedelta(days=1))
        periods = [Period(span.start, _next_month(span.start), f"{span.start:%B %Y}"),
                   Period(last_start, span.end, f"{last_start:%B %Y}")]
    if len(periods) > 2 or (len(periods) == 2 and change is None):
        raise Unanswerable("it names more than one period: " + ", ".join(p.label for p in periods)
                           + "; ask for one period, or for the change from one to the other")
    checked = [check_period(p, now) for p in periods]
    if len(checked) == 2:
        parsed.periods = (checked[0], checked[1])
        parsed.metric = "change"
        words.take_all(r"\b(?:in )?(?:percent(?:age)?|%|per cent)\b|\bfrom\b|\bto\b|\bwith\b|\bthan\b")
    elif checked:
        parsed.period = checked[0]


def _measure(parsed: Parsed, metric: str) -> None:
    """Set what is measured; two different measures in one question are refused rather than one dropped."""
    if parsed.metric in (None, "count", metric):
        parsed.metric = metric
    elif metric != "count":
        names = {"rating": "a rating", "cost": "a cost", "response": "a response time", "resolution": "a resolution "
                 "time", "customers": "a number of customers", "handoffs": "hand-offs", "change": "a change"}
        raise Unanswerable(f"it asks for two measures at once ({names.get(parsed.metric, parsed.metric)} and "
                           f"{names.get(metric, metric)}); ask for one")


def _read_ticket_metric(words: Words, parsed: Parsed) -> None:
    """What is measured about tickets, and how: count, share, average, median, total."""
    take = words.take
    # Times: first response, resolution, the AI's own answer.
    if take(r"\bbetween (?:a |the )?tickets? (?:coming in|arriv\w*|created|being created|received|opened) and "
            r"(?:the |a |its )?first (?:response|reply|answer)\b"):
        _measure(parsed, "response")
    elif take(r"\b(?:between (?:a |the )?tickets? (?:coming in|arriv\w*|created|being created|received|opened) and "
              r"(?:the |an )?ai answers?|(?:the )?ai(?: answer)? (?:response |answer )?(?:time|latency|speed)|"
              r"(?:how long|time) (?:does |did )?(?:it take )?(?:for )?the ai (?:to )?(?:answer|respond|reply|"
              r"write)\w*)\b"):
        _measure(parsed, "ai_answer_seconds")
    elif take(r"\b(?:first )?(?:response|reply|answer) (?:times?|speed)\b|\btime to (?:first )?(?:response|respon\w*|"
              r"reply|answer|react)\b|\b(?:a |the )?first (?:response|reply|answer)(?: times?| speed)?\b|"
              r"\bwait(?:ing)? times?\b|"
              r"\b(?:slowest|fastest|quickest) (?:to )?(?:get )?(?:a |the )?(?:first )?(?:response|reply|answer)s?"
              r"(?: times?)?\b") or (
            words.sees(r"\bhow (?:fast|quickly|long|soon)\b") and words.sees(
                r"\b(?:respond\w*|repl(?:y|ies|ied)|answer(?:ed|s)?|get back|react\w*|wait\w*)\b")):
        words.take(r"\bhow (?:fast|quickly|long|soon)\b")
        words.take(r"\b(?:(?:do|does|did) (?:we|they|customers|people) )?(?:respond\w*|repl(?:y|ies|ied)|"
                   r"answer(?:ed|s)?|"
                   r"get back|react\w*|wait\w*)(?: (?:for|to) (?:an? |the )?(?:first )?(?:answer|reply|response))?\b")
        _measure(parsed, "response")
        if m := words.take(r"\b(?:the )?(slowest|fastest|quickest|longest|shortest)\b"):
            parsed.direction = "most" if m[1] in ("slowest", "longest") else "least"
        elif "slowest" in words.text or "fastest" in words.text or "quickest" in words.text:
            parsed.direction = "most" if "slowest" in words.text else "least"
    elif (words.sees(r"\bhow long\b") and words.sees(r"\b(?:resolv\w*|clos(?:e|ed|ing)|fix(?:ed)?|solv\w*)\b")
          and not words.sees(r"\b(?:respon\w*|repl\w*|answer\w*)\b")):
        words.take(r"\bhow long\b")
        words.take(r"\b(?:(?:does|did|do) (?:it |they |a ticket |tickets |the ticket )?)?(?:takes?|took|taking)?"
                   r"(?: us)?(?: to)?(?: get| be)? (?:resolv\w*|clos(?:e|ed|ing)|fix(?:ed)?|solv\w*)\b")
        _measure(parsed, "resolution")
    elif m := take(r"\b(?:(?:fastest|quickest|slowest|longest|shortest) )?(?:time to (?:resolve|resolution|close|"
                   r"closure|fix)|resolution times?|(?:fastest|quickest|slowest) (?:resolution|to resolve|to close)|"
                   r"(?:takes?|took|taking) (?:the )?(?:longest|shortest|most time|least time|longer|shorter) "
                   r"(?:to )?(?:resolve|close|get resolved|be resolved|get closed)|(?:does|did|do) it take (?:us )?"
                   r"to (?:resolve|close|fix|solve)|"
                   r"(?:how long|time) (?:does|did|"
              r"do)? ?(?:it )?(?:take )?(?:to )?(?:resolve|close|fix|solve)|time (?:until|before) (?:it is |they are "
              r"|the ticket is )?(?:resolved|closed)|handling times?)\b"):
        _measure(parsed, "resolution")
        if extreme := re.search(r"slowest|fastest|quickest|longest|shortest|most time|least time", m[0]) or \
                words.take(r"\b(?:the )?(?:slowest|fastest|quickest|longest|shortest)\b"):
            parsed.direction = "most" if re.search("slowest|longest|most", extreme[0]) else "least"
    # Money: the AI's cost is the only one recorded.
    if take(r"\b(?:ticket )?volumes?\b|\bhow busy\b|\bworkload\b"):
        _measure(parsed, "count")
    if m := take(r"\b(?:ai |model |llm |openai |token )?(?:answers? )?(?:costs?|spend(?:ing)?|spent|expens\w*|cheap\w*|"
            r"dollars|usd|\$)\b(?: us)?(?: (?:on|for) (?:the )?ai(?: answers?| models?)?)?"):
        _measure(parsed, "cost")
        take(r"\b(?:in |on )?(?:ai |model )?(?:spend(?:ing)?|costs?)\b")
        if re.search(r"cheap", m[0]):
            parsed.direction = "least"
        if take(r"\b(?:per|each|an?) (?:ai )?(?:answer|ticket|reply|response|conversation)\b|\bper\b"):
            parsed.aggregate = parsed.aggregate or "avg"
    # Rates the business defines.
    if take(r"\b(?:resolution|draft) rates?\b"):
        _measure(parsed, "resolution_rate_pct")
    elif take(r"\bescalation rates?\b|\bescalat\w* rates?\b"):
        _measure(parsed, "escalation_pct")
    elif take(r"\bhand ?off rates?\b|\bhand(?:ing)? ?offs?\b|\b(?:the ai )?hand(?:ed|ing|s)? (?:(?:the |a )?"
              r"(?:conversation|ticket|chat|case|customer) |it |them )?(?:over |off )?(?:to (?:a |the )?(?:humans?|"
              r"agents?|person|people|staff))\b|\b(?:the ai )?hand(?:ed|ing|s)? (?:(?:the |a )?(?:conversation|ticket|"
              r"chat|case|customer) |it |them )?(?:over|off)\b"):
        _measure(parsed, "handoff_pct" if parsed.share or "rate" in words.text else "handoffs")
        words.take(r"\brates?\b")
        # "... handoff rate, i.e. the AI handing the conversation to a human": the same thing said twice.
        words.take_all(r"\b(?:the ai )?hand(?:ed|ing|s)? (?:(?:the |a )?(?:conversation|ticket|chat|case|customer) |"
                       r"it |them )?(?:over |off )?"
                       r"(?:to (?:a |the )?(?:humans?|agents?|person|people|staff))?\b|\b(?:to (?:a |the )?"
                       r"(?:humans?|agents?|person|people|staff))\b")
        words.take(r"\b(?:did |does |do )?(?:the |our )?ai (?:make|do|perform|trigger|initiate|request)\w*\b")
    # Ratings ("rate" only as the customer's verb: the other rates are read above).
    if take(r"\b(?:csat|satisfaction(?: scores?)?|customer ratings?|ratings?|stars?|scores?|rated)\b|"
            r"\b(?:customers?|they|people|users) (?:did )?rate\b|\bhow (?:happy|satisfied)\b|\bsatisf\w+\b"):
        words.take(r"\bat all\b")
        _measure(parsed, "rating")
    # Drafts and AI answers.
    editor = r"(?:a |the )?(?:humans?|agents?|person|people|staff)"
    edited = r"(?:edit(?:ed|s)?|chang(?:ed|e|es)|rewr(?:o|i)te|rewritten|modif(?:y|ied)|correct(?:ed)?|fix(?:ed)?)"
    if m := take(rf"\b(?:ai )?drafts? (?:that |which )?(?:did )?{editor} (?:then |later |had |has |have )?{edited}\b|"
                 rf"\b{edited} (?:ai )?drafts?\b|\b(?:human|agent|staff) edited\b|\bai_edited\b|\bedited by {editor}\b|"
                 rf"\b{editor} (?:then |later |had to |has to )?{edited}(?: (?:the )?(?:ai )?(?:drafts?|answers?))?\b|"
                 rf"\b(?:an? )?{editor} (?:edits?|changes?|rewrites?) (?:of|to) (?:the )?(?:ai )?"
                 rf"(?:drafts?|answers?)\b"):
        words.take(r"\bbefore (?:sending|it was sent|they were sent|being sent|it went out)\b")
        words.take(r"\b(?:the |their )?(?:ai )?drafts?\b")
        parsed.filters.append(Filter("handled", ("ai_edited",), at=m.start()))
    elif take(r"\b(?:ai )?drafts?(?: (?:were |was )?(?:created|made|saved|written))?\b"):
        _measure(parsed, "drafts_created")
    if m := take(r"\b(?:never|did not|not|without|no) (?:get |got |receive\w* |have |had )?(?:an? |any )?ai "
                 r"(?:answers?|repl\w*|respons\w*)(?: at all)?\b|\bno ai answer\b"):
        parsed.filters.append(Filter("ai_answer", ("no",), at=m.start()))
    elif m := take(r"\b(?:got|get|received|had|have|with) (?:an? )?ai (?:answers?|repl\w*|respons\w*)\b|"
                   r"\bthe ai (?:wrote|produced|generated|drafted) (?:an? )?(?:answers?|repl\w*)\b"):
        parsed.filters.append(Filter("ai_answer", ("yes",), at=m.start()))
    # Customers.
    if take(r"\b(?:how many|number of|count of) (?:unique |distinct |different |individual |separate )?"
            r"(?:customers|people|clients|senders|users)\b|\b(?:unique|distinct|different|individual) "
            r"(?:customers|people|clients|senders|users)\b"):
        _measure(parsed, "customers")
    if m := take(r"\b(?:people|customers?|senders?|users) (?:that |who |whom )?(?:we )?(?:could not|can not|cannot|did "
                 r"not|were not able to|failed to) (?:be )?identif\w*\b|"
                 r"\b(?:unknown|unidentified|anonymous|not identified|"
                 r"unrecognized|without an account|no account)(?: (?:senders?|customers?|people|users))?\b|"
                 r"\b(?:senders?|customers?|people|users) (?:without an account|with no account|we do not know)\b|"
                 r"\b(?:senders?|customers?) (?:we )?(?:could not|did not) identif\w*\b"):
        parsed.filters.append(Filter("customer", ("unknown",), at=m.start()))
    elif m := take(r"\b(?:identified|known|registered|existing) (?:customers?|senders?)\b"):
        parsed.filters.append(Filter("customer", ("known",), at=m.start()))
    if take(r"\bper customer\b|\bper (?:person|sender|user|client)\b"):
        raise Unanswerable("a figure per customer is not among the vetted queries yet (ask for the number of "
                           "customers and the number of tickets)")
    # Volume per day.
    if take(r"\bper day\b|\ba day\b|\bdaily\b|\beach day\b|\bevery day\b"):
        _measure(parsed, "per_day")


def _dimensions(parsed: Parsed) -> list[tuple[str, str]]:
    return TASK_DIMENSIONS if parsed.subject == "tasks" else DIMENSIONS if parsed.subject == "tickets" else \
        [(r"categor(?:y|ies)|topics?", "category"), (r"verdicts?", "verdict"), (r"channels?", "channel")]


def _read_group_names(words: Words, parsed: Parsed) -> None:
    """Group by: 'which channel', 'by category', 'per day', 'what day of the week'."""
    if parsed.subject == "tickets" and words.take(r"\b(?:what|which) (?:single )?(?:day|date) (?:of the week|"
                                                  r"in the week)\b|\bweekday\b"):
        parsed.dimension = "weekday"
    for pattern, dimension in _dimensions(parsed):
        if parsed.dimension:
            break
        # "per" groups only by a kind ("per channel"); "per day" is a rate, read with the measure.
        per = "|per" if dimension not in ("day", "week", "month", "hour") else ""
        if m := words.take(rf"\b(?:which|what|each|every|by|across|for each|broken down by|split by|in which|on which|"
                           rf"from which{per}) (?:single |one |ai )?(?:{pattern})\b"):
            parsed.dimension = dimension
            parsed.breakdown = re.match(r"(?:each|every|by|across|for each|broken|split|per)\b", m[0]) is not None


def _read_grouping(words: Words, parsed: Parsed) -> None:
    """Superlatives: 'the fewest', 'the busiest day', 'most frequent reason', 'the worst average rating'."""
    dims = _dimensions(parsed)
    # "the busiest day", "most frequent reason", "least common category": a superlative next to a dimension word.
    if m := words.take(rf"\b(?:the |our )?({MOST}|{LEAST})\b"):
        parsed.direction = "least" if re.fullmatch(LEAST, m[1]) else "most"
        parsed.often = bool(re.search(r"often|frequently", m[1]))
        if parsed.dimension is None:
            for pattern, dimension in dims:
                if words.take(rf"\b(?:single |one )?(?:{pattern})\b"):
                    parsed.dimension = dimension
                    break
    if parsed.subject != "comparisons" and (m := words.take(r"\b(?:the )?(best|worst|better|worse|poorest|weakest|"
                                                            r"strongest)\b")):
        parsed.polarity = "best" if m[1] in ("best", "better", "strongest") else "worst"
        if parsed.dimension is None:
            for pattern, dimension in dims:
                if words.take(rf"\b(?:{pattern})\b"):
                    parsed.dimension = dimension
                    break
    if parsed.dimension == "day" and words.take(r"\bof the week\b"):
        parsed.dimension = "weekday"
    if parsed.direction and parsed.subject == "tickets":
        # "most often" with a share: "which category does the AI handle on its own most often, as a share".
        words.take(r"\bas a share of (?:its|their|the) tickets\b|\bof (?:its|their) tickets\b")


def _read_early(words: Words, parsed: Parsed) -> None:
    """Phrases whose words would otherwise be read as something else: 'how many more ... than humans', 'in
    escalated status' (not 'escalated to a human'), 'rather than the AI' (a contrast, not a filter)."""
    take = words.take
    if words.sees(r"\bratio\b") and words.sees(r"\b(?:to|vs|versus|and)\b"):
        # "the ratio of AI-handled to human-handled tickets": two groups, the first said before "to".
        words.take(r"\b(?:what is )?(?:the )?ratio (?:of|between)\b|\bratio\b")
        split = words.take(r"\b(?:to|vs|versus|and)\b")
        assert split is not None
        parsed.groups = ("", "")
        parsed.group_split = split.start()
        parsed.metric = "ratio"
    elif words.sees(r"\bhow many (?:more|fewer|less)\b") and words.sees(r"\bthan\b"):
        # "How many more email tickets than WhatsApp tickets", "... did the AI handle alone than humans did":
        # the two groups are read as filters of one slot, the first one said before "than".
        more = words.take(r"\bhow many (?:more|fewer|less)\b")
        than = words.take(r"\bthan\b(?: (?:did|do|does|had|got|received|handled|answered))?")
        assert more is not None and than is not None
        parsed.groups = ("", "")
        parsed.group_split = than.start()
        if re.search("fewer|less", more[0]):
            parsed.direction = "fewer"
    if m := take(r"\b(?:in |with )?(?:an? )?escalated (?:status|state)\b|\bstatus (?:is |of )?escalated\b|"
                 r"\b(?:currently|still|now) escalated\b"):
        parsed.filters.append(Filter("status", ("escalated",), at=m.start()))
    if m := take(r"\b(?:got |get |had |received |with )?(?:no|never (?:got|had|received) an?|without an?) (?:first )?"
                 r"(?:answer|reply|response)\b"):
        parsed.filters.append(Filter("handled", ("unanswered",), at=m.start()))
    take(r"\b(?:rather than|instead of|and not|not) (?:by )?(?:the )?(?:ai|bot)\b")
    take(r"\b(?:rather than|instead of) (?:by )?(?:a |the )?(?:humans?|person|people|agents?)\b")
    if take(r"\b(?:ai|bots?) (?:vs|versus|or|compared (?:to|with)) (?:a |the )?humans?\b|\bhumans? (?:vs|versus|or) "
            r"(?:the )?ai\b|\bwho answered\b|\bai and humans? split\b"):
        parsed.metric = "who_answered"
    if take(r"\bresolution rates?\b(?: (?:drafts? created|drafts?) (?:vs|versus|to|over|per|out of|of|divided by) "
            r"(?:the )?(?:ai answered|ai answers?|answered by (?:the )?ai))?|\bdrafts? (?:created )?(?:vs|versus|to|"
            r"over|per|out of|of|divided by) (?:the )?(?:ai answered|ai answers?)\b|\bdraft rates?\b|"
            r"\bdrafts? (?:were |was )?(?:created |made |saved )?(?:out of|from|per|of|for) (?:the |all )?"
            r"ai answers?\b|"
            r"\b(?:ai )?answers? "
            r"(?:that |which )?(?:became|become|turned into|turn into|were saved as|got saved as|ended up as|"
            r"made it to) (?:a )?drafts?\b"):
        # The documented resolution rate, often spelled out with a "vs" that is not a comparison.
        parsed.metric = "resolution_rate_pct"
    if m := take(r"\b(?:ai ?(?:alone|only)|automation|containment|self ?service) (?:rate|share|percentage)\b"):
        parsed.share = True
        parsed.filters.append(Filter("handled", ("ai",), at=m.start()))
        parsed.part = "handled"  # the rate names what it is the share of
    if m := take(r"\bhow many (?:different|distinct|unique|separate) (languages|channels|categories|ai models|models|"
                 r"urgency levels|statuses|days|weekdays)\b"):
        # "How many different languages": the number of groups that have a ticket.
        parsed.metric = "distinct"
        parsed.dimension = {"languages": "language", "channels": "channel", "categories": "category",
                            "ai models": "model", "models": "model", "urgency levels": "urgency",
                            "statuses": "status", "days": "day", "weekdays": "weekday"}[m[1]]
    if take(r"\b(?:the )?(?:ticket )?funnel\b"):
        parsed.metric = "funnel"
    if take(r"\b(?:most )?problematic\b|\bmost problems\b|\bstruggl\w*\b|\bhardest\b|\btroublesome\b|"
            r"\bproblem scores?\b"):
        parsed.metric = "problem_score"
        parsed.dimension = parsed.dimension or "category"
        words.take(r"\b(?:category|categories|the most)\b")


def _first_places(said: list[tuple[int, str]]) -> dict[str, int]:
    """Each value with where it was first said, in the order they were said."""
    places: dict[str, int] = {}
    for at, value in sorted(said):
        places.setdefault(value, at)
    return places


def _read_groups(parsed: Parsed) -> None:
    """The two groups of 'how many more <a> than <b>': one slot with one value on each side of 'than'."""
    for slot in ("handled", "channel", "category", "language", "urgency", "weekday", "model", "status"):
        found = [f for f in parsed.filters if f.slot == slot and not f.negated]
        values = [v for f in found for v in f.values]
        if len(values) == 2 and (len(found) == 2 or found[0].places):
            places = [f.at for f in found] if len(found) == 2 else list(found[0].places)
            if places[0] < parsed.group_split <= places[1]:
                parsed.groups = (values[0], values[1])
                parsed.dimension = slot
                parsed.filters = [f for f in parsed.filters if f not in found]
                return
    raise Unanswerable("it compares two groups I could not tell apart; name two channels, categories, languages, "
                       "urgencies or who answered (e.g. 'how many more email tickets than WhatsApp tickets')")


def _read_filters(words: Words, parsed: Parsed) -> None:
    take = words.take
    # Who answered. "Not answered" before "answered"; "without a human" (the AI alone) before "a human".
    if m := take(r"\b(?:unanswered|(?:not|never) (?:yet )?(?:been )?(?:answered|replied to|responded to)|(?:still )?"
                 r"(?:waiting|awaiting|waited) (?:for )?(?:an? |the |their )?(?:first )?(?:answer|reply|response)|"
                 r"(?:got |get |had |received |with )?(?:no|never (?:got|had|received) an?|without an?) (?:first )?"
                 r"(?:answer|reply|response))\b"):
        parsed.filters.append(Filter("handled", ("unanswered",), at=m.start()))
    human = r"(?:an? |the )?(?:humans?|persons?|people|(?:live |human |support )?agents?|staff(?: members?)?|" \
            r"team members?|(?:our |the )?(?:support |human )?team|employees?|reps?|manually|a real person)"
    alone = r"(?:entirely |fully |completely |all )?(?:alone|on (?:its|their) own|by itself|by themselves|" \
            r"without (?:a |any )?(?:human|person|help|edits?|changes?)(?: help| involvement| edits?| input)?|" \
            r"unassisted|autonomously|automatically|end to end|with no human(?: help| involvement| input)?)"
    ai = r"(?:the |our )?(?:ai|bot|chatbot|assistant|automation)"
    if m := take(rf"\b(?:handled|answered|resolved|solved|dealt with|closed) {alone}? ?by {ai}(?: {alone})?\b|"
                 rf"\b{ai} (?:handle[ds]?|answer(?:ed|s)?|resolve[ds]?|solve[ds]?|deal(?:s|t)? with|"
                 rf"handl(?:ed|es) (?:on )?(?:its|their) own)(?: (?:completely|entirely|fully))?(?: {alone})?\b|"
                 rf"\b{ai} (?:only|alone|handled|answered)\b|\bfully automated\b|\bauto ?sent\b|\bhandled_by ai\b|"
                 rf"\b{ai} {alone}\b|\b(?:by|for|of|from|to) {ai}\b|\b{ai} (?:tickets?|ones)\b|\b{ai}$"):
        loose = re.search(alone, m[0]) is None and not re.search(r"handled|only|automat|auto sent", m[0])
        parsed.filters.append(Filter("handled", ("ai",), at=m.start(), loose=loose))
        take(rf"\b{alone}\b")
    elif m := take(rf"\b{alone}\b"):
        parsed.filters.append(Filter("handled", ("ai",), at=m.start()))
        take(rf"\b{ai}\b")
    if m := take(rf"\b(?:need(?:ed|s)?|requir(?:ed|es?)|went to|go to|sent to|passed to|needing) {human}\b|"
                 rf"\b{human} (?:had|has|have|needed) to (?:take over|step in|intervene|answer|reply|handle(?: it)?)\b|"
                 rf"\b(?:handled|answered|resolved|solved|written|replied to|responded to|dealt with|taken|worked)"
                 rf" (?:on )?(?:entirely |fully |completely |only )?by {human}\b|\b(?:humans?|person|people|agent|"
                 rf"staff) (?:handled|answered|written)\b|\b{human} (?:had to )?(?:handle[ds]?|answer(?:ed|s)?|"
                 rf"wr(?:o|i)te|writes|took over|take over|takes over|step(?:ped)? in|intervene[ds]?|resolved|replied|"
                 rf"responded|dealt with|answering|handling|responding|replying|(?:end(?:ed)? up|had to) "
                 rf"(?:answer(?:ing)?|handl(?:e|ing)))\b|"
                 rf"\b(?:(?:did |does )?(?:the )?ai )?escalat\w*(?: (?:to|by) {human})?\b|\bhandled_by human\b|"
                 rf"\bmanually\b|\bby {human}\b|\b{human}\b"):
        parsed.filters.append(Filter("handled", ("human",), at=m.start()))
    if not parsed.has("handled") and (m := take(rf"\b(?:did|does|do|has|have) {ai}\b")):
        parsed.filters.append(Filter("handled", ("ai",), at=m.start(), loose=True))
    if m := take(r"\b(?:answered|handled|replied to|responded to)\b"):
        parsed.filters.append(Filter("handled", ("ai", "ai_edited", "human"), at=m.start(), loose=True))
    # Status.
    for pattern, values in ((r"(?:in |with )?(?:an? )?escalated(?: status| state)?|status (?:is )?escalated",
                             ("escalated",)),
                            (r"(?:still |currently )?(?:open|unresolved|not (?:yet )?(?:closed|resolved)|pending|"
                             r"never (?:been |got |get )?(?:closed|resolved)|"
                             r"outstanding|in progress|waiting)", ("new", "ai_answered", "draft_created", "sent",
                                                                    "escalated")),
                            (r"(?:were |got |get |been |are |was )?(?:closed|resolved|solved|done|finished)",
                             ("closed",)),
                            (r"(?:brand )?new(?: status)?|untouched", ("new",)),
                            (r"(?:in |with )?(?:status )?(?:sent)", ("sent",)),
                            (r"(?:status )?draft_created|(?:sitting |waiting )?as (?:a )?drafts?", ("draft_created",))):
        if m := take(rf"\b(?:{pattern})\b(?: (?:status|state))?"):
            parsed.filters.append(Filter("status", values, at=m.start()))
    if words.sees(r"\bstuck\b"):
        take(r"\bstuck\b")
        parsed.stuck_hours = parsed.stuck_hours or 24
    # Urgency: "high or critical", "urgent" (high and critical).
    urgencies: list[str] = []
    first_at = None
    while m := take(r"\b(low|medium|normal|high|critical|urgent)(?: (?:and|or|/) (low|medium|high|critical))?"
                    r"(?: (?:urgency|priority|importance))?\b(?!\s(?:ratings?|rated|scores?|stars?|costs?|share|"
                    r"rates?|volume|number|escalation|percentage|satisfaction|resolution|similarity|reviews?))"):
        first_at = m.start() if first_at is None else first_at
        for word in (m[1], m[2]):
            if word:
                urgencies.extend({"urgent": ["high", "critical"], "normal": ["medium"]}.get(word, [word]))
    if m := take(r"\b(?:marked |with |of |at )?(?:an? )?(?:urgency|priority)(?: (?:level|of))? (?:is |was |=|of )?"
                 r"(low|medium|high|critical)(?: (?:or|and) (low|medium|high|critical))?\b"):
        first_at = m.start() if first_at is None else first_at
        urgencies.extend(w for w in (m[1], m[2]) if w)
    if urgencies:
        parsed.filters.append(Filter("urgency", tuple(dict.fromkeys(urgencies)), at=first_at or 0))
        take(r"\b(?:marked|flagged|labell?ed|tagged)(?: as)?\b")
        take(r"\b(?:urgency|priority)\b")
    # Language: "in German", "German tickets", "Spanish-speaking", "non-English", "other than English".
    while m := take(rf"\b(?:not in|non|other than|except|excluding|besides|apart from|outside) (?:the )?({_LANGUAGE})"
                    rf"(?: language)?\b"):
        parsed.filters.append(Filter("language", (LANGUAGE_WORDS[m[1]],), negated=True, at=m.start()))
    langs: list[str] = []
    spots: list[int] = []
    first_at = None
    while m := take(rf"\b(?:(?:written|asked|sent|wrote|writing|speaking) )?(?:(?:in|of|from) (?:the )?)?"
                    rf"({_LANGUAGE})(?: (?:or|and) "
                    rf"({_LANGUAGE}))?(?: (?:language|speaking|speakers?|customers?))?\b"):
        first_at = m.start() if first_at is None else first_at
        langs.extend(LANGUAGE_WORDS[w] for w in (m[1], m[2]) if w)
        spots.extend(m.start(i) for i in (1, 2) if m[i])
    if m := take(r"\blanguage (?:code )?(?:is |=)?([a-z]{2})\b"):
        langs.append(m[1])
    if langs:
        parsed.filters.append(Filter("language", tuple(dict.fromkeys(langs)), at=first_at or 0,
                                     places=tuple(spots) if len(spots) == len(set(langs)) else ()))
    # Channel.
    channels: list[tuple[int, str]] = []
    excluded: list[tuple[int, str]] = []
    for pattern, value in CHANNEL_WORDS:
        while m := take(rf"\b({NOT} )?(?:(?:came |come |coming |arrived |sent |received )?(?:in )?(?:via|through|over|"
                        rf"on|by|from|in|using|with) (?:the )?)?(?:{pattern})(?: (?:channel|inbox))?\b"):
            (excluded if m[1] else channels).append((m.start(), value))
    for said, negated in ((sorted(channels), False), (sorted(excluded), True)):
        if said:
            first = _first_places(said)
            parsed.filters.append(Filter("channel", tuple(first), negated=negated, at=said[0][0],
                                         places=tuple(first.values())))
    # Model: "answered with Claude", "gpt-4o answers".
    if m := take(r"\b(?:no |without (?:an? |any )?)(?:ai )?models?\b"):
        parsed.filters.append(Filter("model", ("none",), at=m.start()))
    for pattern, values, _ in MODEL_WORDS:
        if m := take(rf"\b(?:(?:answered|written|handled|generated|done) )?(?:with|by|using|from|on)? ?(?:the )?"
                     rf"(?:{pattern})(?: models?)?(?: answer(?:ed|s)?| wr(?:o|i)te| handled)?\b"):
            parsed.filters.append(Filter("model", values, at=m.start()))
            # "answered by the AI with Claude": the model says who answered; handled_by is not asked for.
            parsed.filters = [f for f in parsed.filters if not (f.slot == "handled" and f.loose)]
    # Weekdays: "on weekends", "on Mondays".
    if m := take(r"\b(?:on |during |over |at )?(?:the )?weekends?\b"):
        parsed.filters.append(Filter("weekday", ("Saturday", "Sunday"), at=m.start()))
    elif m := take(r"\b(?:on |during )?(?:the )?(?:weekdays|working days|business days)\b"):
        parsed.filters.append(Filter("weekday", WEEKDAYS[:5], at=m.start()))
    days = [m for m in words.take_all(r"\b(?:on |during |every |on every )?(monday|tuesday|wednesday|thursday|friday|"
                                      r"saturday|sunday)s?\b")]
    if days:
        parsed.filters.append(Filter("weekday", tuple(WEEKDAY_WORDS[m[1]] for m in days), at=days[0].start()))
    for pattern, value in CATEGORY_WORDS:
        # "shipping as their secondary topic", "a secondary category of payment".
        if m := take(rf"\b(?:{pattern}) as (?:the |their |its |a )?(?:second(?:ary)?|additional|other|2nd) (?:category|"
                     rf"intent|topic|reason|request)\b|\b(?:a |the |their )?(?:second(?:ary)?|2nd) (?:category|intent|"
                     rf"topic|reason) (?:of |was |is |being |=)?(?:{pattern})\b"):
            parsed.filters.append(Filter("secondary", (value,), at=m.start()))
    if m := take(r"\b(?:with |had |have |has )?(?:a |an )?(?:second(?:ary)?|additional|another|2nd) (?:category|"
                 r"intent|topic|reason|request)\b"):
        parsed.filters.append(Filter("secondary", CATEGORIES, at=m.start()))
    # Categories, primary and secondary ("about a damaged item and also asked to skip a month").
    found: list[tuple[int, str]] = []
    not_found: list[tuple[int, str]] = []
    for pattern, value in CATEGORY_WORDS:
        while m := take(rf"\b{NOT} (?:(?:about|for|on|regarding|concerning|in|of) )?(?:the |an? )?(?:{pattern})"
                        rf"(?: (?:category|tickets?|requests?|cases?|issues?|inquir\w*|questions?))?\b"):
            not_found.append((m.start(), value))
        while m := take(rf"\b(?:(?:about|for|on|regarding|concerning|in|of|to|asking to|asked to|wanting to|wants to|"
                        rf"want to|requests? to) )?(?:the |an? )?(?:{pattern})(?: (?:category|tickets?|requests?|"
                        rf"cases?|issues?|inquir\w*|questions?))?\b"):
            found.append((m.start(), value))
    found.sort()
    if found:
        values = tuple(_first_places(found))
        also = take(r"\b(?:also|as well|too|both|at the same time|together with|along with|plus|second(?:ary)? "
                    r"(?:intent|topic|category|reason))\b")
        if also and len(values) == 2:
            parsed.filters.append(Filter("category", values, at=found[0][0]))
            parsed.filters.append(Filter("secondary", values, at=found[0][0]))
        elif len(values) > 1 and parsed.groups is None and not take(r"\b(?:or|and|either)\b"):
            raise Unanswerable("it names " + " and ".join(v.replace("_", " ") for v in values) + "; ask about one "
                               "category, or about either of them ('payment or shipping tickets')")
        else:
            places = _first_places(found)
            parsed.filters.append(Filter("category", tuple(places), at=found[0][0], places=tuple(places.values())))
    if not_found:
        said = _first_places(not_found)
        parsed.filters.append(Filter("category", tuple(said), negated=True, at=min(said.values())))
    take_rest = r"\b(?:category|categories|urgency|channel)\b"
    if parsed.has("category") or parsed.has("urgency") or parsed.has("channel"):
        words.take_all(take_rest)


def _read_rating_values(words: Words, parsed: Parsed) -> None:
    """'a bad rating, 1 or 2 stars', '4 or 5 stars', 'rated 5', 'a five-star rating'."""
    take = words.take
    stars = r"(?:star ratings?|star reviews?|stars?|points?|ratings?|reviews?|out of 5)"
    found: set[str] = set()
    at: int | None = None
    if m := take(r"\b(?:a |an )?(?:bad|low|poor|negative|unhappy|angry|terrible)(?: customer)?(?: ratings?| rated| "
                 r"scores?| reviews?| csat| stars?)\b|\b(?:bad|poor|negative|terrible)\b(?! (?:urgency|priority))"):
        found |= {"1", "2"}
        at = m.start()
    elif m := take(r"\b(?:a |an )?(?:good|high|positive|happy|great)(?: customer)?(?: ratings?| rated| scores?| "
                   r"reviews?| csat| stars?)\b"):
        found |= {"4", "5"}
        at = m.start()
    digit = r"(?:[1-5]|one|two|three|four|five)"
    digits = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "perfect": "5", "top": "5"}
    while m := take(rf"\b(?:(?:the )?customers? )?(?:(?:rated|rate us|rate|rating|ratings|scored?|gave|given|of|a) )?"
                    rf"(?:at least |at most )?({digit})"
                    rf"(?: {stars})? (or (?:higher|more|above|better)|or (?:lower|less|below|worse)|(?:and|or) up|"
                    rf"(?:and|or) (?:above|below))\b(?: {stars})?|\b(?:rated |ratings? |scores? )?(above|over|below|"
                    rf"under|higher than|lower than|more than|less than) ({digit})(?: {stars})?\b"):
        if m[1]:
            bound = int(digits.get(m[1], m[1]))
            up = re.search(r"higher|more|above|better|up", m[2]) is not None
            values = range(bound, 6) if up else range(1, bound + 1)
        else:
            bound = int(digits.get(m[4], m[4]))
            values = range(bound + 1, 6) if m[3] in ("above", "over", "higher than", "more than") else range(1, bound)
        found = {str(v) for v in values} if not found else found & {str(v) for v in values}
        at = m.start() if at is None else at
    while m := take(rf"\b(?:(?:rated|rating of|ratings? of|a rating of|gave|given|with|got|a|scored?|of) )?(?:only )?"
                    rf"({digit}|perfect|top)(?: (?:or|and|to|-|through) ({digit}))?(?: {stars})\b|"
                    rf"\b(?:rated|ratings? of|scored?) ({digit})(?: (?:or|and|to|through) ({digit}))?\b|"
                    rf"\b(?:ratings?|rated|scores?) (?:of )?at (least|most) ({digit})\b"):
        if m[5]:
            bound = int(digits.get(m[6], m[6]))
            values = range(bound, 6) if m[5] == "least" else range(1, bound + 1)
        else:
            low = digits.get(m[1] or m[3], m[1] or m[3])
            high = digits.get(m[2] or m[4] or low, m[2] or m[4] or low)
            values = range(int(low), int(high) + 1)
        numbers = {str(v) for v in values}
        # "a bad rating, 1 or 2 stars" says the same thing twice; anything else narrows it.
        found = numbers if not found or numbers <= found else found & numbers
        at = m.start() if at is None else at
    if found and (m := take(rf"\b({digit}) (?:or|and|to) ({digit})\b")):
        said = {str(v) for v in range(int(digits.get(m[1], m[1])), int(digits.get(m[2], m[2])) + 1)}
        found = said if said <= found else found & said
    if found:
        parsed.filters.append(Filter("rating", tuple(sorted(found)), at=at or 0))
    if m := take(r"\b(?:not rated|unrated|without (?:a )?rating|no rating|never (?:got )?rated|"
                 r"did not (?:get )?rate\w*)\b"):
        parsed.filters.append(Filter("rated", ("no",), at=m.start()))
    elif m := take(r"\b(?:of|among|from) (?:the |all |our )?(?:tickets? |ones? )?(?:that |which )?(?:got |were |was |"
                   r"have been |had been |received |had |have |with )?(?:rated|a rating|ratings?)\b|\brated tickets\b"):
        # The base of a share: "of the tickets that got rated, what percent were 4 or 5 stars".
        parsed.filters.append(Filter("rated", ("yes",), at=m.start()))


def _read_grammar(words: Words) -> None:
    """Phrases that are grammar here (their words also appear with meaning elsewhere)."""
    for pattern in (r"\b(?:wr(?:o|i)te|writ(?:ing|ten)) (?:in|to us|to)\b", r"\bat all\b",
                    r"\bright now\b", r"\baccount(?:s|ed)? for\b", r"\bout of (?:all )?(?:the )?\b",
                    r"\bby how much\b",
                    r"\bso far\b", r"\bto date\b", r"\ball time\b", r"\bever\b",
                    r"\bend(?:ed)? up\b", r"\bin the data\b", r"\bour data\b", r"\bon record\b",
                    r"\b(?:did|do|does) (?:we|customers|people) (?:get|receive|have|see)\b",
                    r"\b(?:from|by|did|do|does) (?:our |the )?(?:customers?|people|users|clients)\b",
                    r"\b(?:customers?|people|users|clients) (?:contact|write|reach|message|email|call|get in touch)\w*"
                    r"(?: (?:with )?us| in| out)?\b",
                    r"\b(?:contact(?:ed|ing)?|reach(?:ed)? out to|wr(?:o|i)te (?:to|in)|writ(?:ing|ten) (?:to|in)|"
                    r"emailed|messaged|ask(?:ed|ing)?|sen[dt]) (?:us|in)?\b",
                    r"\b(?:was|were|is|are) (?:there|sent|raised|opened|created|logged|filed|submitted)\b",
                    r"\b(?:opened|created|logged|filed|submitted|raised|marked|flagged|labell?ed|tagged|"
                    r"categori[sz]ed|classified)(?: as)?\b",
                    r"\b(?:have|had|has) (?:we|there)\b", r"\bsitting\b", r"\bcurrently\b", r"\bhow many times\b",
                    r"\bin (?:a|one) (?:single )?(?:day|period)\b", r"\bas of now\b",
                    r"\bi e\b", r"\bie\b", r"\bwhat is\b", r"\bwhat are\b", r"\bon\b"):
        words.take_all(pattern)
