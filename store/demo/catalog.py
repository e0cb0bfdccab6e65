"""Fixed reference data for the demo: countries, products, and what customers and agents write."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.categories import Category
from schemas.domain import Channel


@dataclass(frozen=True)
class Country:
    code: str
    weight: int
    currency: str
    language: str
    faker_locale: str
    calling_code: str
    city_hint: str  # a customs/transit hub named in tracking events


COUNTRIES: tuple[Country, ...] = (
    Country("US", 34, "USD", "en", "en_US", "1", "New York JFK"),
    Country("CA", 7, "CAD", "en", "en_CA", "1", "Toronto"),
    Country("GB", 8, "GBP", "en", "en_GB", "44", "London Heathrow"),
    Country("DE", 6, "EUR", "de", "de_DE", "49", "Frankfurt"),
    Country("FR", 5, "EUR", "fr", "fr_FR", "33", "Paris CDG"),
    Country("NL", 3, "EUR", "nl", "nl_NL", "31", "Amsterdam"),
    Country("AU", 6, "AUD", "en", "en_AU", "61", "Sydney"),
    Country("NZ", 1, "AUD", "en", "en_NZ", "64", "Auckland"),
    Country("IL", 5, "ILS", "he", "he_IL", "972", "Tel Aviv"),
    Country("IT", 2, "EUR", "it", "it_IT", "39", "Milan"),
    Country("ES", 2, "EUR", "es", "es_ES", "34", "Madrid"),
    Country("SE", 1, "EUR", "sv", "sv_SE", "46", "Stockholm"),
    Country("PL", 1, "EUR", "pl", "pl_PL", "48", "Warsaw"),
    Country("CH", 1, "EUR", "de", "de_CH", "41", "Zurich"),
    Country("ZA", 2, "USD", "en", "en_US", "27", "Johannesburg"),
    Country("BR", 2, "USD", "pt", "pt_BR", "55", "Sao Paulo"),
    Country("MX", 1, "USD", "es", "es_MX", "52", "Mexico City"),
    Country("IE", 1, "EUR", "en", "en_IE", "353", "Dublin"),
)


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    kind: str
    price_cents: int
    fragile: bool = False


PRODUCTS: tuple[Product, ...] = (
    Product("HNY-GALIL", "Galilee wildflower honey", "food", 1400, True),
    Product("DATE-SILAN", "Date syrup (silan)", "food", 900, True),
    Product("TAHINI-HAR", "Har Bracha tahini", "food", 1100, True),
    Product("ZAATAR-MIX", "Za'atar spice mix", "food", 700),
    Product("HALVA-PIS", "Pistachio halva", "food", 1200),
    Product("OLIVE-OIL", "Extra virgin olive oil, Golan", "food", 1800, True),
    Product("DATES-MED", "Medjool dates", "food", 1300),
    Product("WINE-CAB", "Galilee Cabernet Sauvignon", "food", 3200, True),
    Product("COFFEE-HEL", "Coffee with cardamom (hel)", "food", 800),
    Product("CHOC-MAX", "Dark chocolate bar", "food", 600),
    Product("DS-SALT", "Dead Sea bath salt", "cosmetics", 1000),
    Product("DS-MUD", "Dead Sea mud mask", "cosmetics", 1500, True),
    Product("DS-CREAM", "Dead Sea hand cream", "cosmetics", 1200),
    Product("OLIVE-SOAP", "Olive oil soap", "cosmetics", 600),
    Product("CANDLE-SHB", "Shabbat candles", "judaica", 900),
    Product("MEZUZAH-OL", "Olive wood mezuzah case", "judaica", 2400),
    Product("KIDDUSH-CP", "Ceramic kiddush cup", "judaica", 2800, True),
    Product("HAMSA-WALL", "Armenian ceramic hamsa", "art", 2600, True),
    Product("POSTER-JLM", "Jerusalem art print", "art", 1600),
    Product("TOWEL-TLV", "Tel Aviv beach towel", "home", 2200),
    Product("SPICE-BOX", "Olive wood spice box", "home", 3000),
    Product("TEA-DESERT", "Desert herbal tea", "food", 700),
    Product("PASTE-HARI", "Harissa paste", "food", 650, True),
    Product("PRETZ-BAG", "Sesame pretzels (beigale)", "food", 500),
)

PLAN_PRICE_USD_CENTS = {"classic": 3990, "premium": 5990, "family": 7990}
# Rough exchange rates, only to make prices look local.
CURRENCY_RATE = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "CAD": 1.37, "AUD": 1.52, "ILS": 3.7}

CATEGORY_WEIGHTS: dict[Category, int] = {
    Category.SHIPPING_INQUIRY: 30,
    Category.GENERAL_QUESTION: 14,
    Category.DAMAGED_ITEM: 9,
    Category.SKIP_MONTH: 8,
    Category.PAUSE_SUBSCRIPTION: 8,
    Category.CHANGE_ADDRESS: 7,
    Category.CANCEL_SUBSCRIPTION: 7,
    Category.PAYMENT_ISSUE: 7,
    Category.CHANGE_FREQUENCY: 4,
    Category.OTHER: 6,
}

# Historic tickets came through Chatwoot inboxes; none through the API channel, which is new.
CHANNEL_WEIGHTS: dict[str, int] = {Channel.EMAIL: 40, Channel.WEB_WIDGET: 25, Channel.WHATSAPP: 20, Channel.FACEBOOK: 8,
                                   Channel.TELEGRAM: 5, Channel.SMS: 2}

# Slots: {first} customer's first name, {order} order number, {month} a box month name,
# {tracking} a tracking number, {product} a product name, {country} the customer's country name.
CUSTOMER_MESSAGES: dict[Category, tuple[str, ...]] = {
    Category.SHIPPING_INQUIRY: (
        "Hi, where is my box? Order #{order} still hasn't arrived.",
        "My tracking number {tracking} hasn't updated in a week. Is it lost?",
        "When will the {month} box ship? I'd like to plan to be home.",
        "Hello, how long does shipping to {country} usually take?",
        "The tracking says 'in customs' for 5 days now, is that normal?",
        "Did my box ship yet? I didn't get a shipping email for {month}.",
        "Can you give me the tracking number for order #{order} please?",
    ),
    Category.GENERAL_QUESTION: (
        "What's in this month's box? Any {product}?",
        "Is everything in the box kosher?",
        "Do you have a gift option? I want to send a box to my mother.",
        "Are the products suitable for someone with a nut allergy?",
        "What's the difference between the Classic and Premium box?",
        "Can I buy a single box without a subscription?",
    ),
    Category.DAMAGED_ITEM: (
        "My box arrived today and the {product} was broken, everything is sticky.",
        "The {product} in order #{order} leaked all over the other items.",
        "Received my box but the {product} is crushed. What can you do?",
        "Hi, one item was missing from my {month} box, the {product}.",
        "The {product} arrived cracked. I have photos.",
    ),
    Category.SKIP_MONTH: (
        "Can I skip the {month} box? I'll be travelling.",
        "Please skip next month for me, I still have plenty from the last box.",
        "I want to skip {month} but keep my subscription.",
        "Is it too late to skip the {month} box?",
    ),
    Category.PAUSE_SUBSCRIPTION: (
        "I need to pause my subscription for 2 months, money is tight.",
        "Can I put my subscription on hold until spring?",
        "Please pause my boxes for a month, we're moving.",
        "How do I pause? I don't want to cancel.",
    ),
    Category.CHANGE_ADDRESS: (
        "I moved! Please send future boxes to my new address.",
        "Can you update my shipping address before the {month} box ships?",
        "I entered the wrong postcode, can you fix my address?",
        "We're relocating to {country}, can you still deliver there?",
    ),
    Category.CANCEL_SUBSCRIPTION: (
        "Please cancel my subscription.",
        "I want to cancel, the boxes are too expensive for me now.",
        "How do I cancel? I can't find it in my account.",
        "Cancel my subscription effective immediately and confirm by email.",
        "I'm not happy with the last boxes, I'd like to cancel.",
    ),
    Category.PAYMENT_ISSUE: (
        "I was charged twice this month!",
        "My card was declined but I have money on it, what's going on?",
        "My card expired, how do I update it?",
        "I was charged the wrong amount for the {month} box.",
        "I'd like a refund for the last box, I never received it.",
    ),
    Category.CHANGE_FREQUENCY: (
        "Can I get a box every two months instead of monthly?",
        "Please switch me to quarterly boxes.",
        "I'd like to go back to monthly boxes.",
    ),
    Category.OTHER: (
        "Do you work with corporate gifts? We need 50 boxes for our team.",
        "I'm a supplier from Haifa, who can I talk to about partnering?",
        "Your website is not loading for me.",
        "I want to speak to a manager about my experience.",
        "Can I visit your warehouse?",
    ),
}

AI_ANSWERS: dict[Category, tuple[str, ...]] = {
    Category.SHIPPING_INQUIRY: (
        "Hi {first}, your box (order #{order}) is on its way with tracking number {tracking}. "
        "Delivery to {country} usually takes the number of days shown on the tracking page; "
        "if it hasn't arrived 7 days after the expected date, tell us and we'll open an investigation.",
        "Hi {first}, boxes ship from Israel in the first week of the month. Your {month} box will get a "
        "tracking number by email as soon as it leaves our warehouse.",
    ),
    Category.GENERAL_QUESTION: (
        "Hi {first}, thanks for asking! Every box has 5-7 products from small Israeli makers, such as "
        "{product}. All food items are kosher-certified; the full list is on the box insert.",
        "Hi {first}, yes, you can send a box as a gift: choose 'gift' at checkout and add a message.",
    ),
    Category.DAMAGED_ITEM: (
        "Hi {first}, I'm sorry the {product} arrived damaged. Please send a photo of the item and the "
        "packaging, and I'll open a claim: you can choose a replacement in the next box, a refund, "
        "or store credit of 120% of the item's value.",
    ),
    Category.SKIP_MONTH: (
        "Hi {first}, you can skip the {month} box until the 20th of the month before. Shall I skip it "
        "for you? Your subscription stays active.",
    ),
    Category.PAUSE_SUBSCRIPTION: (
        "Hi {first}, I can pause your subscription for 1, 2 or 3 months. It restarts by itself "
        "afterwards. How long would you like the break to be?",
    ),
    Category.CHANGE_ADDRESS: (
        "Hi {first}, please send me the full new address (street, city, postal code, country) and "
        "I'll update it for all boxes that haven't shipped yet.",
    ),
    Category.CANCEL_SUBSCRIPTION: (
        "Hi {first}, I'm sorry to see you go. Before I cancel: would a pause of 1-3 months, or 20% off "
        "your next box, help? If not, here is your personal cancellation link, valid for 48 hours.",
    ),
    Category.PAYMENT_ISSUE: (
        "Hi {first}, I'm sorry about the trouble with the payment. I've checked your account; you can "
        "update your card on the account page, and we'll retry the charge automatically.",
        "Hi {first}, I see two charges for the {month} box. The duplicate will be refunded in full; "
        "refunds take 5-10 business days to appear.",
    ),
    Category.CHANGE_FREQUENCY: (
        "Hi {first}, sure! I can switch your subscription to a different frequency from the next box "
        "that hasn't been charged yet. Shall I go ahead?",
    ),
    Category.OTHER: (
        "Hi {first}, thanks for reaching out. I've passed your message to the right person in our "
        "team, who will reply to you by email.",
    ),
}

HUMAN_EDIT_SUFFIXES: tuple[str, ...] = (
    " Have a wonderful week!",
    " Warm regards from Jerusalem, the Lev Haolam team.",
    " Let me know if there is anything else I can do.",
    " Thank you for being part of our community!",
)

HUMAN_OWN_ANSWERS: tuple[str, ...] = (
    "Hi {first}, thank you for your patience. I've looked into this personally and taken care of it; "
    "you'll get a confirmation email shortly.",
    "Dear {first}, I'm sorry for the trouble. I've escalated this to our logistics team and will update "
    "you within 2 business days.",
    "Hi {first}, I completely understand. I've made the change on your account and added a small gift "
    "to your next box as an apology.",
)

FOLLOW_UPS: tuple[str, ...] = (
    "Thank you so much!",
    "Great, thanks for the quick answer.",
    "OK. Please confirm when it's done.",
    "That doesn't really solve my problem...",
)

TASK_TYPES: dict[Category, tuple[str, ...]] = {
    Category.SHIPPING_INQUIRY: ("identify_customer", "track_shipment", "report_missing_package"),
    Category.GENERAL_QUESTION: ("search_knowledge",),
    Category.DAMAGED_ITEM: ("identify_customer", "create_damage_claim", "request_photos", "propose_resolution"),
    Category.SKIP_MONTH: ("identify_customer", "skip_month"),
    Category.PAUSE_SUBSCRIPTION: ("identify_customer", "pause_subscription"),
    Category.CHANGE_ADDRESS: ("identify_customer", "change_address"),
    Category.CANCEL_SUBSCRIPTION: ("identify_customer", "create_cancel_link", "cancel_subscription"),
    Category.PAYMENT_ISSUE: ("identify_customer", "handoff"),
    Category.CHANGE_FREQUENCY: ("identify_customer", "change_frequency"),
    Category.OTHER: ("handoff",),
}

TASK_ERRORS: tuple[str, ...] = (
    "customer not identified: no account for the given email",
    "policy_violation: skip requested after the cut-off",
    "carrier API timeout",
    "confirmation expired before the customer answered",
)
