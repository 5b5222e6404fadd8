import { randomUUID } from 'node:crypto';
import { DomainError } from '@loyalty-graph/shared';
import { ledgerEvents, type LedgerEvents } from '@loyalty-graph/shared/contracts';
import { emit, type EmittedEvent, type EventTypeOf, type PayloadOf } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import type { EntryKind, Line, MemberAccounts, ProgramAccounts } from '../domain/journal';
import { accountColumns, type AccountRow } from '../entities';

export interface EntryRecord {
  programId: string;
  kind: EntryKind;
  memberId: string | null;
  memberAmount: number | null;
  description?: string | null;
  reasonCode?: string | null;
  createdBy: string | null;
  correctsEntryId?: string | null;
  purchaseId?: string | null;
  holdId?: string | null;
  createdAt: Date;
}

/** A ledger event before its entry is written: `post` adds the entry's id to the payload. */
export type LedgerEventDraft = { [K in EventTypeOf<LedgerEvents>]: { type: K; payload: Omit<PayloadOf<LedgerEvents, K>, 'entryId'> } }[EventTypeOf<LedgerEvents>];

export { returning } from '@loyalty-graph/shared/db';

/** A member's balances stay within GraphQL's Int (accounts_balance_in_range holds them there). */
export const MAX_BALANCE = 2_147_483_647;

function isCheckViolation(error: unknown, constraint: string): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError ?? (error as { code?: string; constraint?: string });
  return driverError?.code === '23514' && driverError.constraint === constraint;
}

/**
 * Program accounts never change once created; remembered per process. A plain Map, not a
 * TtlCache: an account id, once committed, is true forever, so there is nothing to expire, and a
 * handful of ids per program stays small.
 */
const PROGRAM_ACCOUNT_KINDS = ['ISSUANCE', 'STATUS_ISSUANCE', 'REDEMPTION', 'ADJUSTMENT', 'HOLDS', 'BREAKAGE', 'WRITE_OFF'];
const programAccountCache = new Map<string, ProgramAccounts>();

/**
 * Low-level journal writes, always inside a caller's transaction. Member accounts are created on
 * first use and locked in id order (the one lock order every operation follows, so concurrent
 * writers queue instead of deadlocking).
 */
export const store = {
  /**
   * The program's own accounts, created on first use. Only ids this transaction found already
   * there (so committed) are cached: ids it created itself would point at nothing if it rolled
   * back, and must not outlive it. (Creating them on another connection instead would need a
   * second pooled connection per request, which deadlocks a busy pool.)
   */
  async programAccounts(tx: EntityManager, programId: string): Promise<ProgramAccounts> {
    const cached = programAccountCache.get(programId);
    if (cached) return cached;
    const select = async () => (await tx.query(`SELECT ${accountColumns} FROM accounts a WHERE a.program_id = $1 AND a.owner_id IS NULL`, [programId])) as AccountRow[];
    let rows = await select();
    const committed = rows.length === PROGRAM_ACCOUNT_KINDS.length;
    if (!committed) {
      await tx.query(
        `INSERT INTO accounts (program_id, kind, owner_id, allow_negative, tracks_balance)
         SELECT $1, kind, NULL, true, false FROM unnest($2::text[]) AS kind ON CONFLICT DO NOTHING`,
        [programId, PROGRAM_ACCOUNT_KINDS],
      );
      rows = await select();
    }
    const byKind = new Map(rows.map((r) => [r.kind, r.id]));
    const accounts = {
      issuance: byKind.get('ISSUANCE')!,
      statusIssuance: byKind.get('STATUS_ISSUANCE')!,
      redemption: byKind.get('REDEMPTION')!,
      adjustment: byKind.get('ADJUSTMENT')!,
      holds: byKind.get('HOLDS')!,
      breakage: byKind.get('BREAKAGE')!,
      writeOff: byKind.get('WRITE_OFF')!,
    };
    if (committed) programAccountCache.set(programId, accounts);
    return accounts;
  },

  /**
   * An account the program keeps for someone else: a partner's funding account, a charity's
   * account. No cached balance (many writers, never spent from); created on first use.
   */
  async ownedProgramAccount(tx: EntityManager, programId: string, kind: 'PARTNER_FUNDING' | 'CHARITY', ownerId: string): Promise<string> {
    const select = async () =>
      ((await tx.query(`SELECT id FROM accounts WHERE program_id = $1 AND kind = $2 AND owner_id = $3`, [programId, kind, ownerId])) as { id: string }[])[0]?.id;
    const existing = await select();
    if (existing) return existing;
    await tx.query(`INSERT INTO accounts (program_id, kind, owner_id, allow_negative, tracks_balance) VALUES ($1, $2, $3, $4, false) ON CONFLICT DO NOTHING`, [
      programId,
      kind,
      ownerId,
      kind === 'PARTNER_FUNDING',
    ]);
    return (await select())!;
  },

  /**
   * Who funds a purchase's points: the partner it was made at (coalitions settle with partners
   * from these accounts), else the program. Returned as the program's accounts with issuance
   * swapped, so the accrual, posting and return shapes stay the same.
   */
  async fundedBy(tx: EntityManager, programId: string, partnerId: string | null): Promise<ProgramAccounts> {
    const program = await this.programAccounts(tx, programId);
    if (!partnerId) return program;
    return { ...program, issuance: await this.ownedProgramAccount(tx, programId, 'PARTNER_FUNDING', partnerId) };
  },

  /** Creates the member's REWARD and STATUS accounts if needed and locks them. */
  async lockMemberAccounts(tx: EntityManager, programId: string, memberId: string): Promise<MemberAccounts> {
    return (await this.lockMembersAccounts(tx, programId, [memberId])).get(memberId)!;
  },

  /**
   * The same for several members at once (a transfer): every account is locked in one statement,
   * in id order, whichever member comes first in the request.
   */
  async lockMembersAccounts(tx: EntityManager, programId: string, memberIds: string[]): Promise<Map<string, MemberAccounts>> {
    const lock = async () =>
      (await tx.query(
        `SELECT ${accountColumns} FROM accounts a
         WHERE a.program_id = $1 AND a.owner_id = ANY($2::uuid[]) AND a.kind IN ('MEMBER_REWARD', 'MEMBER_STATUS')
         ORDER BY a.id FOR UPDATE`,
        [programId, memberIds],
      )) as (AccountRow & { ownerId: string })[];
    // Usually the accounts exist: one statement. Otherwise create them and lock again, in a new
    // statement with a new snapshot, which also sees accounts a concurrent first write committed
    // while the INSERT waited on the unique index.
    let rows = await lock();
    if (rows.length < memberIds.length * 2) {
      await tx.query(
        `INSERT INTO accounts (program_id, kind, owner_id, allow_negative, tracks_balance)
         SELECT $1, kind, owner, false, true FROM unnest($2::uuid[]) AS owner CROSS JOIN unnest(ARRAY['MEMBER_REWARD', 'MEMBER_STATUS']) AS kind
         ON CONFLICT DO NOTHING`,
        [programId, memberIds],
      );
      rows = await lock();
    }
    const accounts = new Map<string, MemberAccounts>();
    for (const row of rows) {
      const current = accounts.get(row.ownerId) ?? { reward: '', status: '' };
      if (row.kind === 'MEMBER_REWARD') current.reward = row.id;
      else current.status = row.id;
      accounts.set(row.ownerId, current);
    }
    return accounts;
  },

  /** Available points (posted − held) of a locked account. */
  async available(tx: EntityManager, accountId: string): Promise<number> {
    const [row] = (await tx.query(`SELECT (posted - held)::int AS available FROM accounts WHERE id = $1`, [accountId])) as { available: number }[];
    return row!.available;
  },

  /** Writes one entry, its lines (balances follow by trigger) and its events. Returns the entry id. */
  async post(tx: EntityManager, entry: EntryRecord, lines: Line[], events: LedgerEventDraft[] = []): Promise<string> {
    const id = randomUUID();
    await tx.query(
      `INSERT INTO journal_entries (id, program_id, kind, member_id, member_amount, description, reason_code, created_by, corrects_entry_id, purchase_id, hold_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [id, entry.programId, entry.kind, entry.memberId, entry.memberAmount, entry.description ?? null, entry.reasonCode ?? null, entry.createdBy, entry.correctsEntryId ?? null, entry.purchaseId ?? null, entry.holdId ?? null, entry.createdAt],
    );
    if (lines.length) {
      await tx
        .query(
          `INSERT INTO journal_lines (entry_id, account_id, bucket, amount, entry_kind)
           SELECT $1, account_id, bucket, amount, $5 FROM unnest($2::uuid[], $3::text[], $4::bigint[]) AS t(account_id, bucket, amount)`,
          [id, lines.map((l) => l.accountId), lines.map((l) => l.bucket), lines.map((l) => l.amount), entry.kind],
        )
        .catch((error: unknown) => {
          // The balance trigger ran into accounts_balance_in_range: the caller asked for a movement
          // no member balance can hold. The transaction is aborted; the DomainError rolls it back.
          if (isCheckViolation(error, 'accounts_balance_in_range')) {
            throw new DomainError('BALANCE_LIMIT_EXCEEDED', `A member's points stay within ${MAX_BALANCE.toLocaleString('en-US')}; this movement would leave that range`, 'points');
          }
          throw error;
        });
    }
    // Every ledger event names its entry: the audit checks that each entry was announced.
    await emit(tx, ledgerEvents, events.map((event) => ({ type: event.type, payload: { ...event.payload, entryId: id } }) as EmittedEvent<LedgerEvents>), entry.createdAt);
    return id;
  },
};

