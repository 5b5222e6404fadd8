/**
 * The SELECT list of a typed-SQL row, declared next to its row type (README, "How the pieces
 * fit"). The mapping names every field of the row exactly once, so a column missing from the list,
 * or one the row does not have, fails the type-check instead of coming back `undefined`.
 *
 *   export const entryColumns = selectList<JournalEntryRow>({ id: 'e.id', programId: 'e.program_id', … });
 *   db.query(`SELECT ${entryColumns} FROM journal_entries e WHERE e.id = $1`, [id])
 *
 * Expressions are SQL and may carry the table's alias and casts (`e.seq::text`); each becomes
 * `expression AS "field"`, so pg hands back objects shaped like the row.
 */
export class SelectList<Row> {
  private readonly sql: string;

  constructor(private readonly columns: Record<keyof Row, string>) {
    this.sql = Object.entries<string>(columns)
      .map(([field, expression]) => `${expression} AS "${field}"`)
      .join(', ');
  }

  /** The same row with some fields read from other expressions (a join's own amount, a literal in RETURNING). */
  with(overrides: Partial<Record<keyof Row, string>>): SelectList<Row> {
    return new SelectList<Row>({ ...this.columns, ...overrides });
  }

  /** The row without some fields (a join that takes them from another table). */
  omit<K extends keyof Row>(...fields: K[]): SelectList<Omit<Row, K>> {
    const kept = Object.fromEntries(Object.entries(this.columns).filter(([field]) => !fields.includes(field as K)));
    return new SelectList<Omit<Row, K>>(kept as Record<Exclude<keyof Row, K>, string>);
  }

  /** `expression AS "field", …`, for interpolation into SELECT or RETURNING. */
  toString(): string {
    return this.sql;
  }
}

export function selectList<Row>(columns: Record<keyof Row, string>): SelectList<Row> {
  return new SelectList<Row>(columns);
}
