/**
 * The ledger's rows. Every table here is typed SQL, not a TypeORM entity, by the rule in the root
 * README ("How the pieces fit"): its invariants (balanced entries, immutable lines, cached
 * balances, no overdraft) are enforced by triggers in the migration, and every write is a few
 * set-based statements on the hot path. Each file holds a row type and, next to it, its SELECT
 * list (`selectList`), written with the table's alias (`FROM journal_entries e`). TypeORM still
 * runs the migrations.
 */
export * from './account';
export * from './charity';
export * from './earning-rule-set';
export * from './hold';
export * from './journal-entry';
export * from './journal-line';
export * from './ledger-settings';
export * from './purchase';
export * from './purchase-return';
