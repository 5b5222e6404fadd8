/**
 * Points per purchase, rounded half up to 2 decimals, computed on integers (no float drift on
 * large sums); null when there was no purchase.
 */
export function averagePerPurchase(points: bigint, purchases: number): string | null {
  if (purchases === 0) return null;
  const n = BigInt(purchases);
  const negative = points < 0n;
  const magnitude = negative ? -points : points;
  // Hundredths, rounded half up (away from zero for a negative sum).
  const hundredths = (magnitude * 200n + n) / (2n * n);
  const text = `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
  return negative && hundredths !== 0n ? `-${text}` : text;
}
