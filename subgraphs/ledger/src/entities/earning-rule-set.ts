import { selectList } from '@loyalty-graph/shared/db';
import type { EarningRules } from '../domain/earning';

/** One published version of a program's earning rules, stored as one JSON document. */
export interface RuleSetRow {
  id: string;
  programId: string;
  version: number;
  effectiveFrom: Date;
  rules: EarningRules;
  createdBy: string | null;
  createdAt: Date;
}

export const ruleSetColumns = selectList<RuleSetRow>({
  id: 'rs.id',
  programId: 'rs.program_id',
  version: 'rs.version',
  effectiveFrom: 'rs.effective_from',
  rules: 'rs.rules',
  createdBy: 'rs.created_by',
  createdAt: 'rs.created_at',
});
