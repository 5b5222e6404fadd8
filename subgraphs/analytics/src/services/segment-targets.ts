import { DomainError, notFound } from '@loyalty-graph/shared';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * Checks a segment an experiment or a survey is about to target. segment_members is read with the
 * program's id everywhere, so another program's (or an unknown) segment never leaks members; but
 * without this check it silently gives an empty audience, which the admin cannot tell from "nobody
 * qualifies". Another program's segment is NOT_FOUND like an unknown one (its existence is not
 * ours to reveal); an archived one is SEGMENT_ARCHIVED, as it has no members and never will.
 */
export async function checkTargetSegment(q: Pick<DataSource | EntityManager, 'query'>, programId: string, segmentId: string): Promise<void> {
  const [segment] = (await q.query(`SELECT status FROM segments WHERE id = $1 AND program_id = $2`, [segmentId, programId])) as { status: 'ACTIVE' | 'ARCHIVED' }[];
  if (!segment) throw notFound('Segment');
  if (segment.status === 'ARCHIVED') throw new DomainError('SEGMENT_ARCHIVED', 'An archived segment has no members: target an active one', 'segmentId');
}
