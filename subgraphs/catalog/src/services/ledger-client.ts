import { DomainError } from '@loyalty-graph/shared';
import type { PeerClient } from '@loyalty-graph/shared/subgraph';

export type HoldStatus = 'OPEN' | 'CAPTURED' | 'RELEASED' | 'EXPIRED';

/** A refusal from the ledger that is the caller's business (not enough points, hold expired). */
export interface LedgerRefusal {
  code: string;
  message: string;
}

type HoldPayload = { hold: { id: string; status: HoldStatus } | null; userErrors: { code: string; message: string }[] };
type Outcome = { holdId: string; status: HoldStatus } | { refused: LedgerRefusal };

const HOLD = `mutation Hold($input: HoldPointsInput!) { holdPoints(input: $input) { hold { id status } userErrors { code message } } }`;
const CAPTURE = `mutation Capture($input: HoldActionInput!) { captureHold(input: $input) { hold { id status } userErrors { code message } } }`;
const RELEASE = `mutation Release($input: HoldActionInput!) { releaseHold(input: $input) { hold { id status } userErrors { code message } } }`;
const REFUND = `mutation Refund($input: RefundCapturedPointsInput!) { refundCapturedPoints(input: $input) { hold { id status } userErrors { code message } } }`;
const DONATE = `mutation Donate($input: DonatePointsInput!) { donatePoints(input: $input) { entry { id } userErrors { code message } } }`;
const STATUS = `query HoldStatus($representations: [_Any!]!) { _entities(representations: $representations) { ... on PointsHold { id status } } }`;

/**
 * The ledger operations a reward order uses, called directly as the catalog service. Every write
 * carries a key derived from the order, so replaying a step after a crash (or a lost answer) finds
 * the ledger's earlier result instead of doing it twice.
 */
export class LedgerClient {
  constructor(private readonly ledger: PeerClient) {}

  async hold(input: { idempotencyKey: string; memberId: string; points: number; reference: string }): Promise<Outcome> {
    return outcome((await this.ledger.request<{ holdPoints: HoldPayload }>(HOLD, { input })).holdPoints);
  }

  async capture(idempotencyKey: string, holdId: string): Promise<Outcome> {
    return outcome((await this.ledger.request<{ captureHold: HoldPayload }>(CAPTURE, { input: { idempotencyKey, holdId } })).captureHold);
  }

  async release(idempotencyKey: string, holdId: string): Promise<Outcome> {
    return outcome((await this.ledger.request<{ releaseHold: HoldPayload }>(RELEASE, { input: { idempotencyKey, holdId } })).releaseHold);
  }

  /** Gives captured points back into the lots they were taken from. */
  async refund(input: { idempotencyKey: string; holdId: string; points: number; reason: string }): Promise<Outcome> {
    return outcome((await this.ledger.request<{ refundCapturedPoints: HoldPayload }>(REFUND, { input })).refundCapturedPoints);
  }

  /** A CHARITY order's points, donated through the ledger (its monthly limit applies). */
  async donate(input: { idempotencyKey: string; memberId: string; charityId: string; points: number }): Promise<{ entryId: string } | { refused: LedgerRefusal }> {
    const { donatePoints } = await this.ledger.request<{ donatePoints: { entry: { id: string } | null; userErrors: { code: string; message: string }[] } }>(DONATE, { input });
    const refusal = donatePoints.userErrors[0];
    return refusal ? { refused: { code: refusal.code, message: refusal.message } } : { entryId: donatePoints.entry!.id };
  }

  async status(holdId: string): Promise<HoldStatus> {
    const { _entities } = await this.ledger.request<{ _entities: ({ id: string; status: HoldStatus } | null)[] }>(STATUS, { representations: [{ __typename: 'PointsHold', id: holdId }] });
    const hold = _entities[0];
    if (!hold) throw new DomainError('HOLD_NOT_FOUND', `The ledger does not know hold ${holdId}`, null);
    return hold.status;
  }
}

function outcome(payload: HoldPayload): Outcome {
  const refusal = payload.userErrors[0];
  if (refusal) return { refused: { code: refusal.code, message: refusal.message } };
  return { holdId: payload.hold!.id, status: payload.hold!.status };
}

export function refused(outcome: Outcome): outcome is { refused: LedgerRefusal } {
  return 'refused' in outcome;
}
