/**
 * The ledger audit: every invariant the ledger promises, checked with SQL over the whole
 * database. Used by the concurrency tests, the chaos harness and `pnpm bench ledger`; an operator
 * can run it against production too (it only reads). Pass a DataSource, an EntityManager or a
 * QueryRunner (to audit inside a transaction).
 */

export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** What clients were told succeeded; every id must exist afterwards. */
export interface Acknowledged {
  purchaseIds?: string[];
  entryIds?: string[];
  holdIds?: string[];
}

const SAMPLE = 20;

/** Audits the ledger database; returns one line per violation (empty means consistent). */
export async function checkInvariants(db: Queryable, acknowledged: Acknowledged = {}): Promise<string[]> {
  const violations: string[] = [];
  const check = async (name: string, sql: string, parameters: unknown[] = []) => {
    const rows = (await db.query(sql, parameters)) as Record<string, unknown>[];
    for (const row of rows.slice(0, SAMPLE)) violations.push(`${name}: ${JSON.stringify(row)}`);
    if (rows.length > SAMPLE) violations.push(`${name}: … and ${rows.length - SAMPLE} more`);
  };

  // Double entry: each entry, and the whole journal, sums to zero in every bucket.
  await check('unbalanced entry', `SELECT entry_id, bucket, sum(amount)::text AS total FROM journal_lines GROUP BY entry_id, bucket HAVING sum(amount) <> 0`);
  await check('journal does not sum to zero', `SELECT bucket, sum(amount)::text AS total FROM journal_lines GROUP BY bucket HAVING sum(amount) <> 0`);

  // Cached balances equal the sum of the account's lines.
  await check(
    'cached balance differs from lines',
    `SELECT a.id, a.kind, a.posted::text, a.pending::text, a.held::text,
            coalesce(s.posted, 0)::text AS lines_posted, coalesce(s.pending, 0)::text AS lines_pending, coalesce(s.held, 0)::text AS lines_held
     FROM accounts a
     LEFT JOIN (
       SELECT account_id,
              sum(amount) FILTER (WHERE bucket = 'POSTED') AS posted,
              sum(amount) FILTER (WHERE bucket = 'PENDING') AS pending,
              sum(amount) FILTER (WHERE bucket = 'HELD') AS held
       FROM journal_lines GROUP BY account_id
     ) s ON s.account_id = a.id
     WHERE a.tracks_balance
       AND (a.posted <> coalesce(s.posted, 0) OR a.pending <> coalesce(s.pending, 0) OR a.held <> coalesce(s.held, 0))`,
  );

  // Lifetime earned (kept by the same trigger) equals the account's accrual and return lines.
  await check(
    'lifetime earned differs from lines',
    `SELECT a.id, a.lifetime_earned::text, coalesce(s.earned, 0)::text AS lines_earned FROM accounts a
     LEFT JOIN (SELECT account_id, sum(amount) AS earned FROM journal_lines
                WHERE entry_kind IN ('ACCRUAL', 'RETURN') AND bucket <> 'HELD' GROUP BY account_id) s ON s.account_id = a.id
     WHERE a.tracks_balance AND a.lifetime_earned <> coalesce(s.earned, 0)`,
  );
  // Each line carries its entry's kind (for that trigger); it must be the entry's.
  await check(
    'line kind differs from its entry',
    `SELECT l.id, l.entry_kind, e.kind FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id WHERE l.entry_kind <> e.kind`,
  );

  // No overdraft, and no negative bucket on accounts that may not go negative.
  // A negative balance is allowed only where a return clawed back spent points under the
  // NEGATIVE_BALANCE policy; anywhere else it is an overdraft.
  await check(
    'member overdrawn (posted - held < 0)',
    `SELECT a.id, a.owner_id, a.posted::text, a.held::text FROM accounts a
     WHERE a.kind = 'MEMBER_REWARD' AND a.posted - a.held < 0
       AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.member_id = a.owner_id AND e.kind = 'RETURN' AND e.reason_code = 'CLAWBACK_NEGATIVE_BALANCE')`,
  );
  // Expiry lots: what a member can spend is exactly what their lots still hold.
  await check(
    'expiry lots differ from available points',
    `SELECT a.id, (a.posted - a.held)::text AS available, coalesce(l.remaining, 0)::text AS in_lots FROM accounts a
     LEFT JOIN (SELECT account_id, sum(remaining) AS remaining FROM point_lots GROUP BY account_id) l ON l.account_id = a.id
     WHERE a.kind = 'MEMBER_REWARD' AND greatest(a.posted - a.held, 0) <> coalesce(l.remaining, 0)`,
  );
  await check('negative pending or held', `SELECT id, kind, pending::text, held::text FROM accounts WHERE NOT allow_negative AND (pending < 0 OR held < 0)`);

  // Idempotency: a committed key always carries its result, and that result exists.
  await check('idempotency key without result', `SELECT program_id, key, operation FROM idempotency_keys WHERE result = 'null'::jsonb`);
  await check(
    'idempotency result points at nothing',
    `SELECT k.program_id, k.key, k.operation, k.result FROM idempotency_keys k
     WHERE (k.result->>'entryId' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = (k.result->>'entryId')::uuid))
        OR (k.result->>'purchaseId' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.id = (k.result->>'purchaseId')::uuid))
        OR (k.result->>'holdId' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.id = (k.result->>'holdId')::uuid))`,
  );
  // Each key produced at most one journal entry, and exactly the one it reports. One indexed
  // equi-join per operation (an OR-join here goes quadratic on a production-sized journal).
  await check(
    'idempotency key produced more than one entry (or not the one it reports)',
    `WITH k AS (SELECT program_id, key, operation, result FROM idempotency_keys WHERE result <> 'null'::jsonb),
     effects AS (
       SELECT k.program_id, k.key, k.operation, k.result, e.id FROM k
         JOIN journal_entries e ON e.purchase_id = (k.result->>'purchaseId')::uuid AND e.kind = 'ACCRUAL' WHERE k.operation = 'recordPurchase'
       UNION ALL
       SELECT k.program_id, k.key, k.operation, k.result, e.id FROM k
         JOIN journal_entries e ON e.hold_id = (k.result->>'holdId')::uuid AND e.kind = 'HOLD' WHERE k.operation = 'holdPoints'
       UNION ALL
       SELECT k.program_id, k.key, k.operation, k.result, e.id FROM k
         JOIN journal_entries e ON e.hold_id = (k.result->>'holdId')::uuid AND e.kind = CASE k.operation WHEN 'captureHold' THEN 'CAPTURE' ELSE 'RELEASE' END
         WHERE k.operation IN ('captureHold', 'releaseHold')
       UNION ALL
       SELECT k.program_id, k.key, k.operation, k.result, e.id FROM k
         JOIN journal_entries e ON e.id = (k.result->>'entryId')::uuid
         WHERE k.operation NOT IN ('recordPurchase', 'holdPoints', 'captureHold', 'releaseHold')
     )
     SELECT program_id, key, operation, count(*)::int AS entries, result->>'entryId' AS reported FROM effects
     GROUP BY program_id, key, operation, result
     HAVING count(*) > 1 OR (result->>'entryId' IS NOT NULL AND NOT bool_or(id = (result->>'entryId')::uuid))`,
  );
  // No two keys of one operation claim the same effect; a hold is settled by one key at most.
  await check(
    'one effect claimed by several keys',
    `SELECT operation, ref, count(*)::int AS keys FROM (
       SELECT CASE WHEN operation IN ('captureHold', 'releaseHold') THEN 'settleHold' ELSE operation END AS operation,
              coalesce(result->>'purchaseId', result->>'entryId', result->>'holdId') AS ref
       FROM idempotency_keys WHERE result <> 'null'::jsonb
     ) k WHERE ref IS NOT NULL GROUP BY operation, ref HAVING count(*) > 1`,
  );
  await check(
    'adjustment entry not made by exactly one key',
    `SELECT e.id, coalesce(k.keys, 0) AS keys FROM journal_entries e
     LEFT JOIN (SELECT (result->>'entryId')::uuid AS entry_id, count(*)::int AS keys FROM idempotency_keys
                WHERE operation = 'adjustPoints' AND result->>'entryId' IS NOT NULL GROUP BY 1) k ON k.entry_id = e.id
     WHERE e.kind = 'ADJUSTMENT' AND coalesce(k.keys, 0) <> 1`,
  );

  // Per business object: no doubled accrual, posting, hold or settlement.
  await check(
    'purchase accrued or posted more than once',
    `SELECT p.id, count(*) FILTER (WHERE e.kind = 'ACCRUAL')::int AS accruals, count(*) FILTER (WHERE e.kind = 'POSTING')::int AS postings
     FROM purchases p JOIN journal_entries e ON e.purchase_id = p.id
     GROUP BY p.id HAVING count(*) FILTER (WHERE e.kind = 'ACCRUAL') > 1 OR count(*) FILTER (WHERE e.kind = 'POSTING') > 1`,
  );
  await check(
    'purchase accrual entry mismatch',
    `SELECT p.id, p.accrual_entry_id FROM purchases p
     WHERE p.accrual_entry_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = p.accrual_entry_id AND e.kind = 'ACCRUAL' AND e.purchase_id = p.id)`,
  );
  await check(
    'hold entries inconsistent with its status',
    `SELECT h.id, h.status,
            count(*) FILTER (WHERE e.kind = 'HOLD')::int AS holds,
            count(*) FILTER (WHERE e.kind = 'CAPTURE')::int AS captures,
            count(*) FILTER (WHERE e.kind = 'RELEASE')::int AS releases
     FROM holds h LEFT JOIN journal_entries e ON e.hold_id = h.id
     GROUP BY h.id, h.status
     HAVING count(*) FILTER (WHERE e.kind = 'HOLD') <> 1
         OR count(*) FILTER (WHERE e.kind = 'CAPTURE') <> CASE WHEN h.status = 'CAPTURED' THEN 1 ELSE 0 END
         OR count(*) FILTER (WHERE e.kind = 'RELEASE') <> CASE WHEN h.status IN ('RELEASED', 'EXPIRED') THEN 1 ELSE 0 END`,
  );

  // Refunds: a hold's refunded_points is what its REFUND entries gave back, only a captured hold
  // has any, and its slices account for every refunded point (each slice at most once, by CHECK).
  await check(
    'hold refunds differ from their entries',
    `SELECT h.id, h.status, h.points, h.refunded_points, coalesce(e.refunded, 0)::int AS in_entries, coalesce(s.refunded, 0)::int AS in_slices
     FROM holds h
     LEFT JOIN (SELECT hold_id, sum(member_amount) AS refunded FROM journal_entries WHERE kind = 'REFUND' GROUP BY hold_id) e ON e.hold_id = h.id
     LEFT JOIN (SELECT hold_id, sum(refunded) AS refunded FROM hold_lots GROUP BY hold_id) s ON s.hold_id = h.id
     WHERE h.refunded_points <> coalesce(e.refunded, 0) OR h.refunded_points <> coalesce(s.refunded, 0)
        OR h.refunded_points > h.points OR (h.refunded_points > 0 AND h.status <> 'CAPTURED')`,
  );

  // Everything a client was told succeeded is there.
  await check('acknowledged purchase missing', `SELECT id FROM unnest($1::uuid[]) AS t(id) WHERE NOT EXISTS (SELECT 1 FROM purchases p WHERE p.id = t.id)`, [acknowledged.purchaseIds ?? []]);
  await check('acknowledged entry missing', `SELECT id FROM unnest($1::uuid[]) AS t(id) WHERE NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = t.id)`, [acknowledged.entryIds ?? []]);
  await check('acknowledged hold missing', `SELECT id FROM unnest($1::uuid[]) AS t(id) WHERE NOT EXISTS (SELECT 1 FROM holds h WHERE h.id = t.id)`, [acknowledged.holdIds ?? []]);

  // Transactional outbox: every entry announced at least once.
  await check('entry without outbox event', `SELECT e.id, e.kind FROM journal_entries e WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entry_id = e.id)`);
  return violations;
}
