import { DomainError, InputError } from '@loyalty-graph/shared';
import { LIMITS } from './limits';

export interface PurchasedLine {
  lineId: string;
  quantity: number;
  points: number;
}

export interface ReturnedLine {
  lineId: string;
  quantity: number;
  points: number;
}

/**
 * Which points a return takes back, line by line. A partial return takes the returned share of
 * the line's points, rounded down; the return that brings a line's returned quantity to what was
 * bought takes exactly what is left, so a sequence of partial returns reverses exactly what the
 * line earned, never more and never less.
 */
export function pointsToReturn(purchased: PurchasedLine[], earlier: ReturnedLine[], requested: { lineId: string; quantity: number }[] | null): ReturnedLine[] {
  const returnedQty = new Map<string, number>();
  const returnedPts = new Map<string, number>();
  for (const r of earlier) {
    returnedQty.set(r.lineId, (returnedQty.get(r.lineId) ?? 0) + r.quantity);
    returnedPts.set(r.lineId, (returnedPts.get(r.lineId) ?? 0) + r.points);
  }
  const byId = new Map(purchased.map((l) => [l.lineId, l]));
  const wanted =
    requested ?? purchased.map((l) => ({ lineId: l.lineId, quantity: l.quantity - (returnedQty.get(l.lineId) ?? 0) })).filter((l) => l.quantity > 0);
  if (wanted.length === 0) throw new DomainError('NOTHING_TO_RETURN', 'Everything in this purchase has already been returned', 'lines');
  const seen = new Set<string>();
  return wanted.map((request, i) => {
    const line = byId.get(request.lineId);
    if (!line) throw new InputError(`The purchase has no line ${request.lineId}`, `lines.${i}.lineId`);
    if (seen.has(request.lineId)) throw new InputError(`Line ${request.lineId} is given twice`, `lines.${i}.lineId`);
    seen.add(request.lineId);
    if (!Number.isInteger(request.quantity) || request.quantity < 1 || request.quantity > LIMITS.lineQuantity) {
      throw new InputError(`quantity must be a whole number from 1 to ${LIMITS.lineQuantity}`, `lines.${i}.quantity`);
    }
    const before = returnedQty.get(line.lineId) ?? 0;
    if (before + request.quantity > line.quantity) {
      throw new DomainError('RETURN_EXCEEDS_PURCHASE', `Only ${line.quantity - before} of line ${line.lineId} can still be returned`, `lines.${i}.quantity`);
    }
    const last = before + request.quantity === line.quantity;
    const points = last ? line.points - (returnedPts.get(line.lineId) ?? 0) : Math.floor((line.points * request.quantity) / line.quantity);
    return { lineId: line.lineId, quantity: request.quantity, points };
  });
}
