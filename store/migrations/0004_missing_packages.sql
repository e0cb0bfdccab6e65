-- Reports of packages that did not arrive, opened by the shipping server after the grace period.

CREATE TABLE missing_package_reports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    order_id    bigint NOT NULL,
    shipment_id bigint NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
    status      text NOT NULL DEFAULT 'investigating' CHECK (status IN ('investigating', 'found', 'replacement_sent')),
    details     text CHECK (length(details) <= 2000),
    reported_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (order_id, customer_id) REFERENCES orders (id, customer_id) ON DELETE CASCADE
);
-- One open investigation per shipment.
CREATE UNIQUE INDEX missing_package_reports_open_idx ON missing_package_reports (shipment_id)
    WHERE status = 'investigating';
