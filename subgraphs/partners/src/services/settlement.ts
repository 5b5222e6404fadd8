import { decodeInstantIdCursor, DomainError, encodeCursor, forbidden, pageSize, toConnection, type Clock, type Connection, type PageArgs, type Viewer } from '@loyalty-graph/shared';
import { partnersEvents } from '@loyalty-graph/shared/contracts';
import { withRetries } from '@loyalty-graph/shared/db';
import { emit } from '@loyalty-graph/shared/events';
import type { DataSource } from 'typeorm';
import { checkUuid, LIMITS, optionalText } from '../domain/limits';
import { canManageSettlement, canReadSettlement } from '../domain/policy';
import { reconcile, type EntryItem, type ReconciliationProblem } from '../domain/reconciliation';
import type { StatementLine } from '../domain/settlement';
import { partnerColumns, paymentColumns, settlementItemColumns, statementColumns, type PartnerRow, type PaymentRow, type SettlementItemRow, type StatementRow } from '../entities';
import { holdUses } from './settlement-close';
import type { SettlementLedger } from './settlement-ledger';
import { statementCsv } from './settlement-csv';
import { openPeriodId, provisionalStatement } from './settlement-provisional';

/** A statement as the API shows it: a closed one (stored, immutable) or the open period's, provisional. */
export interface StatementModel extends Omit<StatementRow, 'closedAt'> {
  status: 'PROVISIONAL' | 'CLOSED';
  closedAt: Date | null;
  /** Provisional statements only: their items, priced now (they are filed when the period closes). */
  provisionalItems: SettlementItemRow[] | null;
}

export interface ItemModel extends SettlementItemRow {
  currency: string;
}

export interface LineModel extends StatementLine {
  currency: string;
}

export interface ReconciliationFailure {
  failedAt: Date;
  firstFailedAt: Date;
  attempts: number;
  problems: ReconciliationProblem[];
}

export interface ReconciliationReport {
  statement: StatementModel;
  checkedAt: Date;
  reconciled: boolean;
  ledgerEntries: number;
  problems: ReconciliationProblem[];
}

const closed = (row: StatementRow): StatementModel => ({ ...row, status: 'CLOSED', provisionalItems: null });
const statementNotFound = () => new DomainError('STATEMENT_NOT_FOUND', 'There is no such settlement statement', 'statementId');

/** Reading statements (closed and provisional), their items and CSV, payments, and reconciliation on demand. */
export class SettlementService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly ledger: SettlementLedger,
  ) {}

  /** A partner's closed statements, newest first. */
  async statements(viewer: Viewer, partnerId: string, args: PageArgs): Promise<Connection<StatementModel>> {
    const partner = await this.readablePartner(viewer, partnerId);
    const limit = pageSize(args.first);
    const after = decodeInstantIdCursor(args.after);
    const rows = (await this.db.query(
      `SELECT ${statementColumns} FROM settlement_statements s WHERE s.partner_id = $1 AND ($2::timestamptz IS NULL OR (s.period_start, s.id) < ($2::timestamptz, $3::uuid))
       ORDER BY s.period_start DESC, s.id DESC LIMIT $4`,
      [partner.id, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    )) as StatementRow[];
    return toConnection(rows.map(closed), limit, (s) => encodeCursor([s.periodStart.toISOString(), s.id]));
  }

  /** The open period's statement as it stands now; null for a partner without an agreement. */
  async current(viewer: Viewer, partnerId: string): Promise<StatementModel | null> {
    return provisionalStatement(this.db, await this.readablePartner(viewer, partnerId));
  }

  /** A statement by id: a closed one, or the open period's (provisional) one. */
  async statement(viewer: Viewer, id: string): Promise<StatementModel | null> {
    const found = await this.find(checkUuid(id, 'id'));
    if (found && !canReadSettlement(viewer, found)) throw forbidden('You can only see your own settlement statements');
    return found;
  }

  async items(statement: StatementModel, args: PageArgs): Promise<Connection<ItemModel>> {
    const limit = pageSize(args.first);
    const after = decodeInstantIdCursor(args.after);
    const cursorOf = (item: ItemModel) => encodeCursor([item.occurredAt.toISOString(), item.id]);
    if (statement.provisionalItems) {
      const start = after ? statement.provisionalItems.findIndex((i) => i.occurredAt.toISOString() === after[0] && i.id === after[1]) + 1 : 0;
      return toConnection(statement.provisionalItems.slice(start, start + limit + 1).map((i) => ({ ...i, currency: statement.currency })), limit, cursorOf);
    }
    const rows = (await this.db.query(
      `SELECT ${settlementItemColumns} FROM settlement_items i WHERE i.statement_id = $1 AND ($2::timestamptz IS NULL OR (i.occurred_at, i.id) > ($2::timestamptz, $3::uuid))
       ORDER BY i.occurred_at, i.id LIMIT $4`,
      [statement.id, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    )) as SettlementItemRow[];
    return toConnection(rows.map((i) => ({ ...i, currency: statement.currency })), limit, cursorOf);
  }

  /** Every line, then every item, as CSV (columns in the schema's `SettlementStatement.csv`). */
  async csv(statement: StatementModel): Promise<string> {
    const items =
      statement.provisionalItems ??
      ((await this.db.query(`SELECT ${settlementItemColumns} FROM settlement_items i WHERE i.statement_id = $1 ORDER BY i.occurred_at, i.id`, [statement.id])) as SettlementItemRow[]);
    return statementCsv(statement, items);
  }

  /** The latest failed close of a provisional statement's period; null when none (or closed). */
  async failure(statement: StatementModel): Promise<ReconciliationFailure | null> {
    if (statement.status === 'CLOSED') return null;
    const [row] = (await this.db.query(
      `SELECT last_failed_at AS "failedAt", first_failed_at AS "firstFailedAt", attempts, problems FROM settlement_reconciliation_failures WHERE statement_id = $1`,
      [statement.id],
    )) as ReconciliationFailure[];
    return row ?? null;
  }

  async payment(statement: StatementModel): Promise<PaymentRow | null> {
    if (statement.status !== 'CLOSED') return null;
    const [row] = (await this.db.query(`SELECT ${paymentColumns} FROM settlement_payments y WHERE y.statement_id = $1`, [statement.id])) as PaymentRow[];
    return row ?? null;
  }

  /**
   * Records that a closed statement's net amount was paid (by whoever owed it): once per statement,
   * so a retry records nothing more and announces nothing twice. The payment is counted in the next
   * statement to close (closing balance = opening + net − payments), and `PartnerPointsSettled`
   * tells the ledger the statement's net issued points are paid for.
   */
  async markPaid(viewer: Viewer, input: { statementId: string; reference?: string | null }): Promise<{ statementId: string }> {
    const id = checkUuid(input.statementId, 'statementId');
    const reference = optionalText(input.reference, 'reference', LIMITS.paymentReferenceLength);
    const [statement] = (await this.db.query(`SELECT ${statementColumns} FROM settlement_statements s WHERE s.id = $1`, [id])) as StatementRow[];
    if (!statement) {
      const open = await this.find(id);
      if (open && !canManageSettlement(viewer, open.programId)) throw forbidden('Only the program’s administrators record settlement payments');
      if (open) throw new DomainError('STATEMENT_NOT_CLOSED', 'The period is still open: a statement is paid once it closed', 'statementId');
      throw statementNotFound();
    }
    if (!canManageSettlement(viewer, statement.programId)) throw forbidden('Only the program’s administrators record settlement payments');
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        const now = this.clock.now();
        const inserted = (await tx.query(
          `INSERT INTO settlement_payments (program_id, partner_id, statement_id, amount, points, reference, recorded_by, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (statement_id) DO NOTHING RETURNING id`,
          [statement.programId, statement.partnerId, statement.id, statement.netAmount, statement.netIssuedPoints, reference, viewer.subject ?? viewer.kind, now],
        )) as { id: string }[];
        if (inserted.length) {
          await emit(
            tx,
            partnersEvents,
            [{ type: 'PartnerPointsSettled', payload: { programId: statement.programId, partnerId: statement.partnerId, statementId: statement.id, points: statement.netIssuedPoints, settledAt: now.toISOString() } }],
            now,
          );
        }
        return { statementId: statement.id };
      }),
    );
  }

  /**
   * Reconciles a statement with the ledger now, without closing anything: a closed one against the
   * items filed up to it (a difference means the ledger or settlement changed after the close), a
   * provisional one as its close would.
   */
  async reconciliation(viewer: Viewer, id: string): Promise<ReconciliationReport | null> {
    const statement = await this.find(checkUuid(id, 'statementId'));
    if (!statement) return null;
    if (!canManageSettlement(viewer, statement.programId)) throw forbidden('Only the program’s administrators see settlement reconciliation');
    const now = this.clock.now();
    const entries = await this.ledger.fundingEntries(statement.programId, statement.partnerId, now);
    const rows = (await this.db.query(
      `SELECT i.id, i.ledger_entry_id AS "ledgerEntryId", i.points, i.occurred_at AS "occurredAt", i.statement_id AS "statementId" FROM settlement_items i WHERE i.partner_id = $1 AND i.ledger_entry_id IS NOT NULL`,
      [statement.partnerId],
    )) as (Omit<EntryItem, 'filing'> & { statementId: string | null })[];
    const provisional = new Set(statement.provisionalItems?.map((i) => i.id) ?? []);
    // Items filed in later statements count as filed: they were late arrivals, adjustments there.
    const items = rows.map(({ statementId: filed, ...item }): EntryItem => ({ ...item, filing: filed === statement.id || provisional.has(item.id) ? 'THIS' : filed ? 'EARLIER' : 'OPEN' }));
    const own = statement.provisionalItems ?? ((await this.db.query(`SELECT ${settlementItemColumns} FROM settlement_items i WHERE i.statement_id = $1`, [statement.id])) as SettlementItemRow[]);
    const holdIds = [...new Set(own.flatMap((i) => (i.holdId ? [i.holdId] : [])))];
    const holds = holdIds.length ? await this.ledger.holds(holdIds) : [];
    const problems = reconcile({ periodEnd: statement.periodEnd, entries, items, holds, holdUses: await holdUses(this.db.manager, holdIds) });
    return { statement, checkedAt: now, reconciled: problems.length === 0, ledgerEntries: entries.length, problems };
  }

  /** A statement by id with no viewer check (a payment's countedIn, after its statement was allowed). */
  async byId(id: string): Promise<StatementModel | null> {
    return this.find(id);
  }

  /** A closed statement, or the provisional one whose id this is (a partner's open period). */
  private async find(id: string): Promise<StatementModel | null> {
    const [row] = (await this.db.query(`SELECT ${statementColumns} FROM settlement_statements s WHERE s.id = $1`, [id])) as StatementRow[];
    if (row) return closed(row);
    // Ids are derived one way (partner and period start): a provisional id is found by deriving
    // each partner's open-period id, one partner with an agreement after another (a program has
    // tens of partners, not thousands).
    const candidates = (await this.db.query(`SELECT ${partnerColumns} FROM partners p WHERE EXISTS (SELECT 1 FROM partner_agreements a WHERE a.partner_id = p.id) ORDER BY p.id`)) as PartnerRow[];
    for (const partner of candidates) {
      const open = await openPeriodId(this.db, partner.id);
      if (open === id) return provisionalStatement(this.db, partner);
    }
    return null;
  }

  private async readablePartner(viewer: Viewer, partnerId: string): Promise<PartnerRow> {
    const [partner] = (await this.db.query(`SELECT ${partnerColumns} FROM partners p WHERE p.id = $1`, [checkUuid(partnerId, 'partnerId')])) as PartnerRow[];
    // The same answer for a partner that does not exist and another's: a partner key learns nothing.
    if (!partner || !canReadSettlement(viewer, { programId: partner.programId, partnerId: partner.id })) throw forbidden('You can only see your own settlement statements');
    return partner;
  }
}

