-- Tips as they are receipted, in arrival order and without an index: the group commit
-- appends each stored state's tip here, and the writer moves them into `tips` (sorted,
-- so each epoch's run of tips lands on one index page) a few thousand at a time. An
-- index entry per tip in `tips`, scattered across epochs, was most of the pages each
-- commit wrote (docs/adr/0019). Reads of tips take both tables, each tip once: a
-- state stored twice by identical requests can log its tip twice.
CREATE TABLE tip_log (
    tab TEXT NOT NULL,
    incarnation BIGINT NOT NULL,
    slot INTEGER NOT NULL,
    epoch BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    payee TEXT NOT NULL,
    amount BIGINT NOT NULL,
    accepted_at BIGINT NOT NULL
);
