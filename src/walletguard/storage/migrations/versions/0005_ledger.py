"""ledger: invariants in the database, idempotent transfers, limit usage, statements

Revision ID: 0003_ledger
Revises: 0003_accounts
Create Date: 2026-11-22 08:50:09.898751

Besides the tables, this migration writes by hand what autogenerate cannot see: the
CHECK constraints added to existing tables and the triggers that keep the ledger's
invariants when the application is bypassed (docs/ledger.md, "What the database
enforces"). PostgreSQL and SQLite get the same guarantees by different means.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_ledger"
down_revision = "0003_accounts"
branch_labels = None
depends_on = None

AVAILABLE = "overdraft_allowed OR account NOT LIKE 'wallet:%' OR posted - held - pending_out >= 0"
POSTED_AMOUNT = (
    "(status = 'posted' AND posted_amount > 0 AND posted_amount <= amount)"
    " OR (status <> 'posted' AND posted_amount = 0)"
)

SQLITE_TRIGGERS = [
    # A ledger transaction row seals its postings: written after them (the foreign key
    # from postings is deferred to commit), refused unless they balance per currency.
    """CREATE TRIGGER ledger_transactions_balance BEFORE INSERT ON ledger_transactions
    WHEN (SELECT count(*) FROM postings WHERE transaction_id = NEW.id) < 2
      OR EXISTS (SELECT 1 FROM postings WHERE transaction_id = NEW.id
                 GROUP BY currency HAVING sum(amount) <> 0)
    BEGIN
      SELECT RAISE(ABORT,
        'ledger transaction does not balance: postings must sum to zero per currency');
    END""",
    """CREATE TRIGGER postings_sealed BEFORE INSERT ON postings
    WHEN EXISTS (SELECT 1 FROM ledger_transactions WHERE id = NEW.transaction_id)
    BEGIN
      SELECT RAISE(ABORT, 'ledger transaction is already written: postings cannot be added to it');
    END""",
    """CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
    BEGIN SELECT RAISE(ABORT, 'postings are never changed'); END""",
    """CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
    BEGIN SELECT RAISE(ABORT, 'postings are never deleted'); END""",
    """CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions
    BEGIN SELECT RAISE(ABORT, 'ledger transactions are never changed'); END""",
    """CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
    BEGIN SELECT RAISE(ABORT, 'ledger transactions are never deleted'); END""",
    """CREATE TRIGGER holds_resolve_once BEFORE UPDATE ON holds
    WHEN OLD.status <> 'pending' AND (NEW.status IS NOT OLD.status
      OR NEW.posted_amount IS NOT OLD.posted_amount OR NEW.resolved_at IS NOT OLD.resolved_at)
    BEGIN SELECT RAISE(ABORT, 'hold was already resolved: it resolves at most once'); END""",
    """CREATE TRIGGER holds_fixed BEFORE UPDATE ON holds
    WHEN NEW.amount IS NOT OLD.amount OR NEW.account IS NOT OLD.account
      OR NEW.currency IS NOT OLD.currency
    BEGIN SELECT RAISE(ABORT, 'a hold''s amount, account and currency never change'); END""",
    """CREATE TRIGGER holds_no_delete BEFORE DELETE ON holds
    BEGIN SELECT RAISE(ABORT, 'holds are never deleted'); END""",
    """CREATE TRIGGER topups_settle_once BEFORE UPDATE ON topups
    WHEN (OLD.status = 'suspected_fake' AND NEW.status IS NOT OLD.status)
      OR (OLD.status = 'confirmed' AND NEW.status NOT IN ('confirmed', 'suspected_fake'))
      OR NEW.amount IS NOT OLD.amount OR NEW.account_id IS NOT OLD.account_id
    BEGIN SELECT RAISE(ABORT,
      'a top-up leaves pending once (confirmed may become suspected, never back)'); END""",
    """CREATE TRIGGER transfers_once BEFORE UPDATE ON transfers
    BEGIN SELECT RAISE(ABORT, 'a transfer request''s outcome is never changed'); END""",
]

PG_FUNCTIONS = [
    # Deferred to commit, once per posting: the transaction it belongs to balances.
    # Once per posting, unless this session already checked the transaction at commit
    # with this posting in it (postings get increasing ids, so a later one is re-checked).
    """CREATE FUNCTION wg_postings_balance() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      bad record;
      n integer;
      top bigint;
    BEGIN
      IF current_setting('walletguard.balanced_tx', true) = NEW.transaction_id
         AND NEW.id <= current_setting('walletguard.balanced_top', true)::bigint THEN
        RETURN NULL;
      END IF;
      SELECT count(*), max(id) INTO n, top FROM postings
        WHERE transaction_id = NEW.transaction_id;
      IF n < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has fewer than two postings', NEW.transaction_id
          USING ERRCODE = 'check_violation';
      END IF;
      SELECT currency, sum(amount) AS total INTO bad FROM postings
        WHERE transaction_id = NEW.transaction_id GROUP BY currency HAVING sum(amount) <> 0
        LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: % % off',
          NEW.transaction_id, bad.total, bad.currency USING ERRCODE = 'check_violation';
      END IF;
      PERFORM set_config('walletguard.balanced_tx', NEW.transaction_id, true),
              set_config('walletguard.balanced_top', top::text, true);
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION wg_postings_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM ledger_transactions WHERE id = NEW.transaction_id) THEN
        RAISE EXCEPTION 'ledger transaction % is already written: postings cannot be added',
          NEW.transaction_id USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE FUNCTION wg_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% rows are never %', TG_TABLE_NAME, lower(TG_OP) || 'd'
        USING ERRCODE = 'check_violation';
    END $$""",
    """CREATE FUNCTION wg_holds_resolve_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (NEW.amount, NEW.account, NEW.currency)
         IS DISTINCT FROM (OLD.amount, OLD.account, OLD.currency) THEN
        RAISE EXCEPTION 'hold %: amount, account and currency never change', OLD.id
          USING ERRCODE = 'check_violation';
      END IF;
      IF OLD.status <> 'pending' AND (NEW.status, NEW.posted_amount, NEW.resolved_at)
         IS DISTINCT FROM (OLD.status, OLD.posted_amount, OLD.resolved_at) THEN
        RAISE EXCEPTION 'hold % was already %: it resolves at most once', OLD.id, OLD.status
          USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE FUNCTION wg_topups_settle_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (OLD.status = 'suspected_fake' AND NEW.status IS DISTINCT FROM OLD.status)
         OR (OLD.status = 'confirmed' AND NEW.status NOT IN ('confirmed', 'suspected_fake'))
         OR (NEW.amount, NEW.account_id) IS DISTINCT FROM (OLD.amount, OLD.account_id) THEN
        RAISE EXCEPTION 'top-up %/%: a top-up leaves pending once (a confirmed one may later '
          'be suspected, never the reverse); its amount and account never change',
          OLD.channel, OLD.channel_ref USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$""",
]

PG_TRIGGERS = [
    """CREATE CONSTRAINT TRIGGER postings_balance AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wg_postings_balance()""",
    """CREATE TRIGGER postings_sealed BEFORE INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION wg_postings_sealed()""",
    """CREATE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION wg_refuse_change()""",
    """CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE
    ON ledger_transactions FOR EACH ROW EXECUTE FUNCTION wg_refuse_change()""",
    """CREATE TRIGGER holds_resolve_once BEFORE UPDATE ON holds
    FOR EACH ROW EXECUTE FUNCTION wg_holds_resolve_once()""",
    """CREATE TRIGGER holds_no_delete BEFORE DELETE ON holds
    FOR EACH ROW EXECUTE FUNCTION wg_refuse_change()""",
    """CREATE TRIGGER topups_settle_once BEFORE UPDATE ON topups
    FOR EACH ROW EXECUTE FUNCTION wg_topups_settle_once()""",
    """CREATE TRIGGER transfers_once BEFORE UPDATE ON transfers
    FOR EACH ROW EXECUTE FUNCTION wg_refuse_change()""",
]

# The server-side fast path (storage/ledger_batch.py): a batch of simple transfers in one
# round trip, with the same idempotency records, funds check and triggers as the Python
# service, but no limits. Every balance row the batch touches is locked first, in one
# order, so concurrent batches cannot deadlock; the source's row lock also serialises two
# requests with the same id, so the second sees the first's record.
PG_TRANSFER_ITEM = """
CREATE TYPE wg_transfer_item AS (
  n bigint, id text, kind text, source text, destination text, currency text, amount bigint,
  at timestamptz, memo text, payload_hash text
)"""

PG_TRANSFER_FUNCTION = """
CREATE FUNCTION wg_post_transfers(batch jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  items wg_transfer_item[];
  item wg_transfer_item;
  results jsonb[] := '{}';
  found_transfer record;
  source_balance record;
  simple boolean;
BEGIN
  -- Decode the batch once (a large jsonb would be decompressed at every use).
  items := ARRAY(
    SELECT ROW(r.n, r.id, r.kind, r.source, r.destination, r.currency, r.amount, r.at,
               coalesce(r.memo, ''), r.payload_hash)::wg_transfer_item
      FROM ROWS FROM (jsonb_to_recordset(batch) AS (
             id text, kind text, source text, destination text, currency text,
             amount bigint, at timestamptz, memo text, payload_hash text))
           WITH ORDINALITY AS r(id, kind, source, destination, currency, amount, at, memo,
                                payload_hash, n)
     ORDER BY r.n);
  INSERT INTO balances (account, currency, posted, pending_in, pending_out, held,
                        overdraft_allowed)
    SELECT account, currency, 0, 0, 0, 0, false FROM (
      SELECT i.source AS account, i.currency FROM unnest(items) i
      UNION SELECT i.destination, i.currency FROM unnest(items) i
    ) wanted ORDER BY account, currency
    ON CONFLICT DO NOTHING;
  -- Lock every balance row the batch touches, in one order: batches cannot deadlock.
  PERFORM 1 FROM balances b JOIN (
      SELECT i.source AS account, i.currency FROM unnest(items) i
      UNION SELECT i.destination, i.currency FROM unnest(items) i
    ) wanted ON b.account = wanted.account AND b.currency = wanted.currency
    ORDER BY b.account, b.currency FOR UPDATE OF b;
  -- The common case, set-based: new distinct ids, valid amounts, and every source can pay
  -- even counting no credit that arrives earlier in the batch. Then every transfer posts
  -- (the exact, one-by-one result is the same), in four statements for the whole batch.
  SELECT NOT EXISTS (SELECT 1 FROM transfers t JOIN unnest(items) i ON t.id = i.id)
     AND (SELECT count(DISTINCT i.id) = count(*) FROM unnest(items) i)
     AND NOT EXISTS (SELECT 1 FROM unnest(items) i
                     WHERE i.amount <= 0 OR i.source = i.destination)
     AND NOT EXISTS (
       SELECT 1 FROM (
         SELECT i.source AS account, i.currency,
                sum(i.amount) OVER (PARTITION BY i.source, i.currency ORDER BY i.n) AS spent
           FROM unnest(items) i) d
       JOIN balances b ON b.account = d.account AND b.currency = d.currency
       WHERE b.account LIKE 'wallet:%' AND NOT b.overdraft_allowed
         AND b.posted - b.held - b.pending_out < d.spent)
    INTO simple;
  IF simple THEN
    INSERT INTO postings (transaction_id, account, currency, amount, at)
      SELECT id, account, currency, amount, at FROM (
        SELECT i.n, 0 AS side, i.id, i.source AS account, i.currency, -i.amount AS amount,
               i.at FROM unnest(items) i
        UNION ALL
        SELECT i.n, 1, i.id, i.destination, i.currency, i.amount, i.at FROM unnest(items) i
      ) p ORDER BY n, side;
    INSERT INTO ledger_transactions (id, kind, at, event_id, memo)
      SELECT i.id, i.kind, i.at, NULL, i.memo FROM unnest(items) i;
    UPDATE balances b SET posted = b.posted + d.delta FROM (
      SELECT account, currency, sum(delta) AS delta FROM (
        SELECT i.source AS account, i.currency, -i.amount AS delta FROM unnest(items) i
        UNION ALL
        SELECT i.destination, i.currency, i.amount FROM unnest(items) i) m
      GROUP BY account, currency) d
      WHERE b.account = d.account AND b.currency = d.currency;
    INSERT INTO transfers (id, payload_hash, payload, status, reason_code, message,
                           transaction_id, at)
      SELECT i.id, i.payload_hash, wg_transfer_payload(i), 'posted', NULL, '', i.id, i.at
        FROM unnest(items) i;
    RETURN (SELECT jsonb_agg(jsonb_build_object('id', i.id, 'status', 'posted',
                               'reason_code', NULL, 'replayed', false) ORDER BY i.n)
              FROM unnest(items) i);
  END IF;
  -- Otherwise one by one, in order.
  FOREACH item IN ARRAY items LOOP
    SELECT payload_hash, status, reason_code INTO found_transfer
      FROM transfers WHERE id = item.id;
    IF FOUND THEN
      results := results || jsonb_build_object(
        'id', item.id,
        'status', CASE WHEN found_transfer.payload_hash = item.payload_hash
                       THEN found_transfer.status ELSE 'conflict' END,
        'reason_code', found_transfer.reason_code, 'replayed', true);
      CONTINUE;
    END IF;
    SELECT * INTO source_balance FROM balances
      WHERE account = item.source AND currency = item.currency;
    IF item.amount <= 0 OR item.source = item.destination THEN
      INSERT INTO transfers (id, payload_hash, payload, status, reason_code, message,
                             transaction_id, at)
        VALUES (item.id, item.payload_hash, wg_transfer_payload(item), 'failed',
                'TRANSFER_INVALID', 'a positive amount between two different accounts',
                NULL, item.at);
      results := results || jsonb_build_object('id', item.id, 'status', 'failed',
        'reason_code', 'TRANSFER_INVALID', 'replayed', false);
      CONTINUE;
    END IF;
    IF source_balance.account LIKE 'wallet:%' AND NOT source_balance.overdraft_allowed
       AND source_balance.posted - source_balance.held - source_balance.pending_out
           < item.amount THEN
      INSERT INTO transfers (id, payload_hash, payload, status, reason_code, message,
                             transaction_id, at)
        VALUES (item.id, item.payload_hash, wg_transfer_payload(item), 'failed',
                'INSUFFICIENT_FUNDS',
                item.source || ' has insufficient available funds in ' || item.currency,
                NULL, item.at);
      results := results || jsonb_build_object('id', item.id, 'status', 'failed',
        'reason_code', 'INSUFFICIENT_FUNDS', 'replayed', false);
      CONTINUE;
    END IF;
    INSERT INTO postings (transaction_id, account, currency, amount, at) VALUES
      (item.id, item.source, item.currency, -item.amount, item.at),
      (item.id, item.destination, item.currency, item.amount, item.at);
    INSERT INTO ledger_transactions (id, kind, at, event_id, memo)
      VALUES (item.id, item.kind, item.at, NULL, item.memo);
    UPDATE balances SET posted = posted - item.amount
      WHERE account = item.source AND currency = item.currency;
    UPDATE balances SET posted = posted + item.amount
      WHERE account = item.destination AND currency = item.currency;
    INSERT INTO transfers (id, payload_hash, payload, status, reason_code, message,
                           transaction_id, at)
      VALUES (item.id, item.payload_hash, wg_transfer_payload(item), 'posted', NULL, '',
              item.id, item.at);
    results := results || jsonb_build_object('id', item.id, 'status', 'posted',
      'reason_code', NULL, 'replayed', false);
  END LOOP;
  RETURN to_jsonb(results);
END $$
"""

# The payload a retry must repeat, as `TransferRequest.payload()` writes it (the fast path
# carries no counterparty or event id).
PG_TRANSFER_PAYLOAD = """
CREATE FUNCTION wg_transfer_payload(item wg_transfer_item) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('amount', item.amount, 'counterparty', NULL,
    'currency', item.currency, 'destination', item.destination, 'event_id', NULL,
    'kind', item.kind, 'memo', item.memo, 'source', item.source)::text
$$
"""

SQLITE_TRIGGER_NAMES = [
    "ledger_transactions_balance",
    "postings_sealed",
    "postings_no_update",
    "postings_no_delete",
    "ledger_transactions_no_update",
    "ledger_transactions_no_delete",
    "holds_resolve_once",
    "holds_fixed",
    "holds_no_delete",
    "topups_settle_once",
    "transfers_once",
]
PG_TRIGGER_NAMES = [
    ("postings_balance", "postings"),
    ("postings_sealed", "postings"),
    ("postings_immutable", "postings"),
    ("ledger_transactions_immutable", "ledger_transactions"),
    ("holds_resolve_once", "holds"),
    ("holds_no_delete", "holds"),
    ("topups_settle_once", "topups"),
    ("transfers_once", "transfers"),
]
PG_FUNCTION_NAMES = [
    "wg_postings_balance",
    "wg_postings_sealed",
    "wg_refuse_change",
    "wg_holds_resolve_once",
    "wg_topups_settle_once",
]


def upgrade() -> None:
    op.create_table(
        "limit_usage",
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=240), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_limit_usage_used")),
        sa.PrimaryKeyConstraint(
            "account", "scope", "period", "currency", name=op.f("pk_limit_usage")
        ),
    )
    op.create_table(
        "statement_imports",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_statement_imports")),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("transaction_id", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('posted', 'failed')", name=op.f("ck_transfers_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "buckets", "held >= 0 AND pending_in >= 0 AND pending_out >= 0"
        )
        batch_op.create_check_constraint("available", AVAILABLE)

    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counterparty", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("approval_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint("amount_positive", "amount > 0")
        batch_op.create_check_constraint("status", "status IN ('pending', 'posted', 'voided')")
        batch_op.create_check_constraint("on_expiry", "on_expiry IN ('void', 'escalate', 'keep')")
        batch_op.create_check_constraint("posted_amount", POSTED_AMOUNT)

    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_postings_transaction_id_ledger_transactions"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_postings_transaction_id_ledger_transactions"),
            "ledger_transactions",
            ["transaction_id"],
            ["id"],
            initially="DEFERRED",
            deferrable=True,
        )

    with op.batch_alter_table("topups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_topups_status_requested_at", ["status", "requested_at"], unique=False
        )
        batch_op.create_check_constraint("amount_positive", "amount > 0")
        batch_op.create_check_constraint(
            "status", "status IN ('pending', 'confirmed', 'suspected_fake')"
        )

    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
        op.execute(PG_TRANSFER_ITEM)
        op.execute(PG_TRANSFER_PAYLOAD)
        op.execute(PG_TRANSFER_FUNCTION)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS wg_post_transfers(jsonb)")
        op.execute("DROP FUNCTION IF EXISTS wg_transfer_payload(wg_transfer_item)")
        op.execute("DROP TYPE IF EXISTS wg_transfer_item")
        for name, table in PG_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")

    with op.batch_alter_table("topups", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_topups_status"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_topups_amount_positive"), type_="check")
        batch_op.drop_index("ix_topups_status_requested_at")

    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_postings_transaction_id_ledger_transactions"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_postings_transaction_id_ledger_transactions"),
            "ledger_transactions",
            ["transaction_id"],
            ["id"],
        )

    with op.batch_alter_table("holds", schema=None) as batch_op:
        for name in ("posted_amount", "on_expiry", "status", "amount_positive"):
            batch_op.drop_constraint(batch_op.f(f"ck_holds_{name}"), type_="check")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("approval_id")
        batch_op.drop_column("counterparty")

    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_balances_available"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_balances_buckets"), type_="check")

    op.drop_table("transfers")
    op.drop_table("statement_imports")
    op.drop_table("limit_usage")
