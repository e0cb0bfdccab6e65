-- The business domain: customers, addresses, products, subscriptions, orders, shipments,
-- damage claims, payment issues. CHECK constraints mirror the enums in schemas/domain.py.

CREATE TABLE customers (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email               text NOT NULL CHECK (email = lower(email) AND email LIKE '_%@_%.__%'),
    phone               text CHECK (phone ~ '^\+[0-9]{7,15}$'),
    first_name          text NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    last_name           text NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
    country_code        char(2) NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    language            text NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2}$'),
    chatwoot_contact_id bigint UNIQUE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (email)
);
CREATE INDEX customers_phone_idx ON customers (phone) WHERE phone IS NOT NULL;

CREATE TABLE addresses (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    line1        text NOT NULL CHECK (length(btrim(line1)) BETWEEN 1 AND 200),
    line2        text CHECK (length(line2) <= 200),
    city         text NOT NULL CHECK (length(btrim(city)) BETWEEN 1 AND 100),
    region       text CHECK (length(region) <= 100),
    postal_code  text CHECK (length(postal_code) <= 20),
    country_code char(2) NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    is_default   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, customer_id)
);
CREATE INDEX addresses_customer_idx ON addresses (customer_id);
-- At most one default address per customer.
CREATE UNIQUE INDEX addresses_one_default_idx ON addresses (customer_id) WHERE is_default;

CREATE TABLE products (
    sku         text PRIMARY KEY CHECK (sku ~ '^[A-Z0-9-]{3,32}$'),
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('food', 'cosmetics', 'judaica', 'home', 'art')),
    price_cents integer NOT NULL CHECK (price_cents > 0),
    fragile     boolean NOT NULL DEFAULT false
);

CREATE TABLE subscriptions (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id         bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    plan                text NOT NULL CHECK (plan IN ('classic', 'premium', 'family')),
    status              text NOT NULL CHECK (status IN ('active', 'paused', 'past_due', 'cancelled')),
    frequency           text NOT NULL CHECK (frequency IN ('monthly', 'bimonthly', 'quarterly')),
    price_cents         integer NOT NULL CHECK (price_cents > 0),
    currency            char(3) NOT NULL CHECK (currency IN ('USD', 'EUR', 'GBP', 'CAD', 'AUD', 'ILS')),
    next_shipment_date  date,
    paused_until        date,
    shipping_address_id bigint,
    started_at          timestamptz NOT NULL DEFAULT now(),
    cancelled_at        timestamptz,
    cancel_reason       text,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- The shipping address must belong to the same customer.
    FOREIGN KEY (shipping_address_id, customer_id) REFERENCES addresses (id, customer_id),
    UNIQUE (id, customer_id),
    CONSTRAINT paused_has_until CHECK ((status = 'paused') = (paused_until IS NOT NULL)),
    CONSTRAINT cancelled_has_time CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    CONSTRAINT cancelled_ships_nothing CHECK (status <> 'cancelled' OR next_shipment_date IS NULL),
    CONSTRAINT live_ships_somewhere CHECK (status = 'cancelled' OR next_shipment_date IS NOT NULL)
);
CREATE INDEX subscriptions_customer_idx ON subscriptions (customer_id);
CREATE INDEX subscriptions_status_idx ON subscriptions (status);

CREATE TABLE subscription_skips (
    subscription_id bigint NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    box_month       date NOT NULL CHECK (extract(day FROM box_month) = 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscription_id, box_month)
);

CREATE TABLE orders (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    subscription_id bigint,
    box_month       date NOT NULL CHECK (extract(day FROM box_month) = 1),
    status          text NOT NULL CHECK (status IN ('pending', 'packed', 'shipped', 'delivered', 'returned', 'cancelled')),
    total_cents     integer NOT NULL CHECK (total_cents >= 0),
    currency        char(3) NOT NULL CHECK (currency IN ('USD', 'EUR', 'GBP', 'CAD', 'AUD', 'ILS')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (subscription_id, customer_id) REFERENCES subscriptions (id, customer_id),
    UNIQUE (id, customer_id),
    -- One box per subscription per month.
    UNIQUE (subscription_id, box_month)
);
CREATE INDEX orders_customer_idx ON orders (customer_id, box_month DESC);

CREATE TABLE order_items (
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    sku      text NOT NULL REFERENCES products (sku),
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 20),
    PRIMARY KEY (order_id, sku)
);

CREATE TABLE shipments (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id            bigint NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    carrier             text NOT NULL CHECK (carrier IN ('israel_post', 'dhl', 'ups', 'fedex')),
    tracking_number     text NOT NULL UNIQUE CHECK (tracking_number ~ '^[A-Z0-9]{8,30}$'),
    status              text NOT NULL CHECK (status IN ('label_created', 'in_transit', 'customs', 'out_for_delivery',
                                                        'delivered', 'exception', 'lost', 'returned')),
    shipped_at          timestamptz,
    expected_delivery   date,
    delivered_at        timestamptz,
    destination_country char(2) NOT NULL CHECK (destination_country ~ '^[A-Z]{2}$'),
    CONSTRAINT delivered_has_time CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
    CONSTRAINT delivered_after_shipped CHECK (delivered_at IS NULL OR (shipped_at IS NOT NULL AND delivered_at >= shipped_at))
);

CREATE TABLE shipment_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shipment_id bigint NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
    occurred_at timestamptz NOT NULL,
    status      text NOT NULL CHECK (status IN ('label_created', 'in_transit', 'customs', 'out_for_delivery',
                                                'delivered', 'exception', 'lost', 'returned')),
    location    text NOT NULL,
    description text NOT NULL
);
CREATE INDEX shipment_events_shipment_idx ON shipment_events (shipment_id, occurred_at);

CREATE TABLE damage_claims (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id             bigint NOT NULL,
    order_id                bigint NOT NULL,
    status                  text NOT NULL CHECK (status IN ('awaiting_photos', 'under_review', 'resolution_proposed',
                                                            'resolved', 'rejected')),
    description             text NOT NULL CHECK (length(btrim(description)) BETWEEN 1 AND 4000),
    reported_at             timestamptz NOT NULL DEFAULT now(),
    resolution              text CHECK (resolution IN ('replacement', 'refund', 'credit')),
    resolution_amount_cents integer CHECK (resolution_amount_cents >= 0),
    resolved_at             timestamptz,
    -- The claimed order must be the claimant's own.
    FOREIGN KEY (order_id, customer_id) REFERENCES orders (id, customer_id) ON DELETE CASCADE,
    CONSTRAINT resolved_has_resolution CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)
                                              AND (status <> 'resolved' OR resolution IS NOT NULL)),
    CONSTRAINT proposed_has_resolution CHECK (status <> 'resolution_proposed' OR resolution IS NOT NULL)
);
CREATE INDEX damage_claims_customer_idx ON damage_claims (customer_id);
-- One open claim per order: a second report adds to the first.
CREATE UNIQUE INDEX damage_claims_one_open_idx ON damage_claims (order_id)
    WHERE status IN ('awaiting_photos', 'under_review', 'resolution_proposed');

CREATE TABLE damage_claim_items (
    claim_id    bigint NOT NULL REFERENCES damage_claims (id) ON DELETE CASCADE,
    sku         text NOT NULL REFERENCES products (sku),
    quantity    integer NOT NULL CHECK (quantity BETWEEN 1 AND 20),
    damage_type text NOT NULL CHECK (damage_type IN ('broken', 'leaked', 'crushed', 'missing', 'spoiled')),
    PRIMARY KEY (claim_id, sku)
);

CREATE TABLE damage_claim_photos (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    claim_id     bigint NOT NULL REFERENCES damage_claims (id) ON DELETE CASCADE,
    url          text NOT NULL CHECK (url ~ '^https://'),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/heic', 'image/webp')),
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (claim_id, url)
);

CREATE TABLE payment_issues (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    subscription_id bigint,
    kind            text NOT NULL CHECK (kind IN ('card_declined', 'card_expired', 'double_charge',
                                                  'refund_request', 'wrong_amount')),
    status          text NOT NULL CHECK (status IN ('open', 'resolved')),
    amount_cents    integer CHECK (amount_cents >= 0),
    currency        char(3) CHECK (currency IN ('USD', 'EUR', 'GBP', 'CAD', 'AUD', 'ILS')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    FOREIGN KEY (subscription_id, customer_id) REFERENCES subscriptions (id, customer_id),
    CONSTRAINT resolved_has_time CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
    CONSTRAINT amount_has_currency CHECK ((amount_cents IS NULL) = (currency IS NULL))
);
CREATE INDEX payment_issues_customer_idx ON payment_issues (customer_id);
