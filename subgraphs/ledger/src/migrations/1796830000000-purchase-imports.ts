import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Purchase imports: a file sent in numbered chunks, recorded by a background job. The lines wait
 * here (jsonb per chunk) until processed; a chunk's `processed_at`, its rejections and the import's
 * counters commit in the same transaction as the chunk's purchases, which is what makes a crash
 * resume where it stopped. Lines are dropped after the retention (`lines_purged_at`); the import
 * row and its rejections (the report) stay.
 */
export class PurchaseImports1796830000000 implements MigrationInterface {
  name = 'PurchaseImports1796830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE purchase_imports (
        id uuid PRIMARY KEY,
        program_id uuid NOT NULL,
        -- The partner whose import it is (its own source); NULL for the program's staff.
        partner_id uuid,
        source text NOT NULL,
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        dry_run boolean NOT NULL,
        status text NOT NULL CHECK (status IN ('UPLOADING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
        -- Who created it: the job records the lines as them (their rights, their history window).
        viewer jsonb NOT NULL,
        created_by text NOT NULL,
        expected_lines int CHECK (expected_lines > 0),
        total_lines int NOT NULL DEFAULT 0,
        processed_lines int NOT NULL DEFAULT 0,
        recorded int NOT NULL DEFAULT 0,
        already_recorded int NOT NULL DEFAULT 0,
        rejected int NOT NULL DEFAULT 0,
        failure text,
        created_at timestamptz NOT NULL,
        queued_at timestamptz,
        started_at timestamptz,
        finished_at timestamptz,
        lines_purged_at timestamptz,
        CONSTRAINT purchase_imports_counts CHECK (processed_lines = recorded + already_recorded + rejected AND processed_lines <= total_lines),
        CONSTRAINT purchase_imports_key UNIQUE (program_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX purchase_imports_queue ON purchase_imports (queued_at) WHERE status IN ('QUEUED', 'RUNNING')`);
    await q.query(`CREATE INDEX purchase_imports_purge ON purchase_imports (finished_at) WHERE lines_purged_at IS NULL AND finished_at IS NOT NULL`);
    await q.query(`
      CREATE TABLE purchase_import_chunks (
        import_id uuid NOT NULL REFERENCES purchase_imports(id) ON DELETE CASCADE,
        chunk_no int NOT NULL CHECK (chunk_no >= 1),
        content_hash text NOT NULL,
        line_count int NOT NULL CHECK (line_count BETWEEN 1 AND 1000),
        -- The file's line number of its first line (from 1), set when the import starts.
        first_line int,
        lines jsonb,
        leased_until timestamptz,
        -- Claims that ended in an error of ours: at MAX the import is FAILED rather than retried forever.
        attempts int NOT NULL DEFAULT 0,
        processed_at timestamptz,
        PRIMARY KEY (import_id, chunk_no)
      )`);
    await q.query(`CREATE INDEX purchase_import_chunks_todo ON purchase_import_chunks (import_id, chunk_no) WHERE processed_at IS NULL`);
    await q.query(`
      CREATE TABLE purchase_import_rejections (
        import_id uuid NOT NULL REFERENCES purchase_imports(id) ON DELETE CASCADE,
        line_no int NOT NULL,
        transaction_id text NOT NULL,
        code text NOT NULL,
        field text,
        message text NOT NULL,
        PRIMARY KEY (import_id, line_no)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE purchase_import_rejections`);
    await q.query(`DROP TABLE purchase_import_chunks`);
    await q.query(`DROP TABLE purchase_imports`);
  }
}
