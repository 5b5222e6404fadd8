import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import { idempotent, isUniqueViolation, withRetries } from '@loyalty-graph/shared/db';
import type { DataSource } from 'typeorm';
import { partnerColumns, type PartnerRow } from '../entities';
import { checkUuid } from '../domain/limits';
import { assertStatusChange, checkContacts, checkPartnerName, type PartnerCategory, type PartnerContact, type PartnerStatus } from '../domain/partners';
import { canManagePartners } from '../domain/policy';

type ContactInput = { name: string; email?: string | null; phone?: string | null; role?: string | null };

const nameTaken = (name: string) => new DomainError('PARTNER_NAME_TAKEN', `The program already has a partner called ${name}`, 'name');

/** Partners of a program: creating them and changing their name, category, status and contacts. */
export class PartnerService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(viewer: Viewer, input: { idempotencyKey: string; programId: string; name: string; category: PartnerCategory; contacts?: readonly ContactInput[] | null }): Promise<{ partnerId: string }> {
    const programId = checkUuid(input.programId, 'programId');
    if (!canManagePartners(viewer, programId)) throw forbidden('Only the program’s administrators manage its partners');
    const name = checkPartnerName(input.name);
    const contacts = checkContacts(input.contacts, 'contacts');
    const { idempotencyKey, ...request } = input;
    try {
      const { result } = await idempotent(
        this.db,
        { programId, key: idempotencyKey, operation: 'createPartner', input: request },
        async (tx) => {
          const now = this.clock.now();
          const [row] = (await tx.query(`INSERT INTO partners (program_id, name, category, status, contacts, created_at, updated_at) VALUES ($1, $2, $3, 'ACTIVE', $4, $5, $5) RETURNING id`, [
            programId,
            name,
            input.category,
            JSON.stringify(contacts),
            now,
          ])) as { id: string }[];
          return { partnerId: row!.id };
        },
        this.clock,
      );
      return result;
    } catch (error) {
      if (isUniqueViolation(error, 'partners_name')) throw nameTaken(name);
      throw error;
    }
  }

  async update(viewer: Viewer, input: { partnerId: string; name?: string | null; category?: PartnerCategory | null; status?: PartnerStatus | null; contacts?: readonly ContactInput[] | null }): Promise<{ partnerId: string }> {
    const partnerId = checkUuid(input.partnerId, 'partnerId');
    const name = input.name == null ? null : checkPartnerName(input.name);
    const contacts: PartnerContact[] | null = input.contacts == null ? null : checkContacts(input.contacts, 'contacts');
    try {
      return await withRetries(() =>
        this.db.transaction(async (tx) => {
          // Locked: a status change and a rename at once are applied one after the other.
          const [partner] = (await tx.query(`SELECT ${partnerColumns} FROM partners p WHERE p.id = $1 FOR UPDATE`, [partnerId])) as PartnerRow[];
          if (!partner) throw new DomainError('PARTNER_NOT_FOUND', 'There is no such partner', 'partnerId');
          if (!canManagePartners(viewer, partner.programId)) throw forbidden('Only the program’s administrators manage its partners');
          if (input.status) assertStatusChange(partner.status, input.status);
          await tx.query(
            `UPDATE partners SET name = COALESCE($2, name), category = COALESCE($3, category), status = COALESCE($4, status), contacts = COALESCE($5::jsonb, contacts), updated_at = $6 WHERE id = $1`,
            [partnerId, name, input.category ?? null, input.status ?? null, contacts ? JSON.stringify(contacts) : null, this.clock.now()],
          );
          return { partnerId };
        }),
      );
    } catch (error) {
      if (isUniqueViolation(error, 'partners_name')) throw nameTaken(name ?? '');
      throw error;
    }
  }
}

/** The partner for a write, checked: it exists and the viewer manages its program. */
export async function managedPartner(db: Pick<DataSource, 'query'>, viewer: Viewer, partnerId: string): Promise<PartnerRow> {
  const [partner] = (await db.query(`SELECT ${partnerColumns} FROM partners p WHERE p.id = $1`, [checkUuid(partnerId, 'partnerId')])) as PartnerRow[];
  if (!partner) throw new DomainError('PARTNER_NOT_FOUND', 'There is no such partner', 'partnerId');
  if (!canManagePartners(viewer, partner.programId)) throw forbidden('Only the program’s administrators manage its partners');
  return partner;
}
