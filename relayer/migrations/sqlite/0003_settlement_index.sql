-- The settlements report joins each settlement transaction to the epochs it carries.
CREATE INDEX stream_epochs_by_settle_tx ON stream_epochs (settle_tx);
