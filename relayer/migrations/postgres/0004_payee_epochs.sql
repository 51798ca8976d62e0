-- The epochs that name each payee, one row per payee and epoch, written with the
-- epoch's first stored tip to that payee: the reports by payee start here. It replaces
-- an index entry per tip keyed by payee, whose scattered B-tree writes were about 40%
-- of the store's cost per tip (docs/adr/0011).
CREATE TABLE payee_epochs (
    payee TEXT NOT NULL,
    tab TEXT NOT NULL,
    incarnation BIGINT NOT NULL,
    slot INTEGER NOT NULL,
    epoch BIGINT NOT NULL,
    PRIMARY KEY (payee, tab, incarnation, slot, epoch)
);
INSERT INTO payee_epochs (payee, tab, incarnation, slot, epoch)
    SELECT DISTINCT payee, tab, incarnation, slot, epoch FROM tips;
DROP INDEX tips_by_payee;
