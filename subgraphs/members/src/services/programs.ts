import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import type { DataSource, Repository } from 'typeorm';
import { ProgramEntity, type ProgramStatus, type ProgramType } from '../entities/program';
import { TierEntity, type TierBenefit } from '../entities/tier';
import { assertProgramTransition, pointsCurrencyName, pointValue, programName } from '../domain/program';
import { canAdministerProgram, canCreatePrograms } from '../domain/policy';
import { assertLadderConsistent, validateTierFields } from '../domain/tier';

export interface CreateProgram {
  name: string;
  type: ProgramType;
  pointsCurrencyName: string;
  pointValue: { amount: string; currency: string };
  status?: ProgramStatus | null;
}

export interface UpdateProgram {
  id: string;
  name?: string | null;
  pointsCurrencyName?: string | null;
  pointValue?: { amount: string; currency: string } | null;
  status?: ProgramStatus | null;
}

export interface TierInput {
  name?: string | null;
  rank?: number | null;
  qualifyingThreshold?: number | null;
  benefits?: TierBenefit[] | null;
}

/** Program configuration: programs and their tier ladders, edited by ADMIN. */
export class ProgramService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(viewer: Viewer, input: CreateProgram): Promise<ProgramEntity> {
    if (!canCreatePrograms(viewer)) throw forbidden('Only platform operators create programs');
    const value = pointValue(input.pointValue.amount, input.pointValue.currency);
    const now = this.clock.now();
    return this.db.getRepository(ProgramEntity).save({
      name: programName(input.name),
      type: input.type,
      pointsCurrencyName: pointsCurrencyName(input.pointsCurrencyName),
      pointValueAmount: value.amount,
      pointValueCurrency: value.currency,
      status: input.status ?? 'DRAFT',
      createdAt: now,
      updatedAt: now,
    });
  }

  async update(viewer: Viewer, input: UpdateProgram): Promise<ProgramEntity> {
    return this.db.transaction(async (tx) => {
      const programs = tx.getRepository(ProgramEntity);
      const program = await programs.findOne({ where: { id: input.id }, lock: { mode: 'pessimistic_write' } });
      if (!program) throw new DomainError('PROGRAM_NOT_FOUND', 'No such program', 'id');
      if (!canAdministerProgram(viewer, program.id)) throw forbidden('Only the program’s administrators can change it');
      if (input.name != null) program.name = programName(input.name);
      if (input.pointsCurrencyName != null) program.pointsCurrencyName = pointsCurrencyName(input.pointsCurrencyName);
      if (input.pointValue != null) {
        const value = pointValue(input.pointValue.amount, input.pointValue.currency);
        program.pointValueAmount = value.amount;
        program.pointValueCurrency = value.currency;
      }
      if (input.status != null) {
        assertProgramTransition(program.status, input.status);
        program.status = input.status;
      }
      program.updatedAt = this.clock.now();
      return programs.save(program);
    });
  }

  async createTier(viewer: Viewer, programId: string, input: TierInput): Promise<TierEntity> {
    const fields = validateTierFields(input);
    return this.withLadder(viewer, programId, async (tiers, repo) => {
      const tier = repo.create({ programId, benefits: [], ...fields });
      assertLadderConsistent([...tiers, tier]);
      return repo.save(tier);
    });
  }

  async updateTier(viewer: Viewer, tierId: string, input: TierInput): Promise<TierEntity> {
    const fields = validateTierFields(input);
    const existing = await this.db.getRepository(TierEntity).findOneBy({ id: tierId });
    if (!existing) throw new DomainError('TIER_NOT_FOUND', 'No such tier', 'id');
    return this.withLadder(viewer, existing.programId, async (tiers, repo) => {
      const tier = tiers.find((t) => t.id === tierId)!;
      Object.assign(tier, fields);
      assertLadderConsistent(tiers);
      return repo.save(tier);
    });
  }

  /**
   * Edits a program's ladder under a lock on the program row, so two admins editing tiers at once
   * cannot together produce a ladder that neither would have been allowed to.
   */
  private async withLadder<T>(
    viewer: Viewer,
    programId: string,
    edit: (tiers: TierEntity[], repo: Repository<TierEntity>) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction(async (tx) => {
      const program = await tx.getRepository(ProgramEntity).findOne({ where: { id: programId }, lock: { mode: 'pessimistic_write' } });
      if (!program) throw new DomainError('PROGRAM_NOT_FOUND', 'No such program', 'programId');
      if (!canAdministerProgram(viewer, programId)) throw forbidden('Only the program’s administrators can edit its tiers');
      const repo = tx.getRepository(TierEntity);
      const tiers = await repo.findBy({ programId });
      try {
        return await edit(tiers, repo);
      } catch (error) {
        if ((error as { driverError?: { constraint?: string } }).driverError?.constraint === 'tiers_program_id_name_key') {
          throw new DomainError('TIER_NAME_TAKEN', 'Another tier of this program has that name', 'name');
        }
        throw error;
      }
    });
  }
}
