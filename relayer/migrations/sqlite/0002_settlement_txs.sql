-- Each settlement transaction as signed, recorded before it is sent: a restarted
-- instance follows one that may still land instead of sending its epochs again.
CREATE TABLE settlement_txs (
    signature TEXT PRIMARY KEY,
    tx BLOB NOT NULL,
    last_valid_block_height BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
