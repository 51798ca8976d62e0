-- One row per stream epoch (a tab's life, a slot, an epoch): its newest receipted state.
CREATE TABLE stream_epochs (
    tab TEXT NOT NULL,
    incarnation BIGINT NOT NULL,
    slot INTEGER NOT NULL,
    epoch BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    fee_bps INTEGER NOT NULL,
    total BIGINT NOT NULL,
    entries BLOB NOT NULL,
    signature BLOB NOT NULL,
    receipt BLOB NOT NULL,
    status TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    settle_tx TEXT,
    PRIMARY KEY (tab, incarnation, slot, epoch)
);
CREATE INDEX stream_epochs_by_status ON stream_epochs (status, tab, incarnation, slot, epoch);

-- One row per receipted state: the tip it added. Any earlier state of an epoch is
-- the sum of its tips up to that seq (what a top-up must name as settled).
CREATE TABLE tips (
    tab TEXT NOT NULL,
    incarnation BIGINT NOT NULL,
    slot INTEGER NOT NULL,
    epoch BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    payee TEXT NOT NULL,
    amount BIGINT NOT NULL,
    accepted_at BIGINT NOT NULL,
    PRIMARY KEY (tab, incarnation, slot, epoch, seq)
);
CREATE INDEX tips_by_payee ON tips (payee, tab, incarnation, slot, epoch);

CREATE TABLE lookup_tables (
    address TEXT PRIMARY KEY,
    authority TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
