import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { badUserInput } from './errors';

/** ISO-8601 instants, always rendered in UTC. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant as an ISO-8601 string in UTC, e.g. 2026-11-22T12:00:00.000Z.',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new TypeError(`DateTime cannot represent ${String(value)}`);
    return date.toISOString();
  },
  parseValue(value) {
    return parseDate(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badUserInput('DateTime must be an ISO-8601 string');
    return parseDate(ast.value);
  },
});

function parseDate(value: unknown): Date {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw badUserInput('DateTime must be an ISO-8601 string with a time zone, e.g. 2026-11-22T12:00:00Z');
  }
  const date = new Date(value);
  // JavaScript rolls impossible days over (2026-02-30 becomes 2 March): the calendar day must round-trip.
  const day = value.slice(0, 10);
  if (Number.isNaN(date.getTime()) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw badUserInput(`${value} is not a valid DateTime`);
  }
  return date;
}

const DECIMAL = /^-?\d{1,18}(\.\d{1,8})?$/;

/**
 * Exact decimal numbers (money, rates) as strings: floats lose cents. Up to 18 integer and
 * 8 fractional digits. The scale is kept as given: "50.50" stays "50.50" in both directions,
 * because for money the number of decimals is part of the amount (a price shown as 50.5 EUR is
 * a bug report). Values read from PostgreSQL's numeric come padded to the column's scale
 * ("0.01000000"); the resolver formats them for their currency (`formatMoneyAmount`).
 */
export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description:
    'An exact decimal number as a string, e.g. "12.50", at most 18 integer and 8 fractional digits. Never a float. Sent back with the decimals it was given ("50.50" stays "50.50"); money amounts come back with their currency\'s decimals (EUR 2, JPY 0, KWD 3).',
  serialize(value) {
    const text = String(value);
    if (!DECIMAL.test(text)) throw new TypeError(`Decimal cannot represent ${text}`);
    return canonicalDecimal(text);
  },
  parseValue(value) {
    return parseDecimal(value);
  },
  parseLiteral(ast) {
    return parseDecimal(literalText(ast));
  },
});

function parseDecimal(value: unknown): string {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL.test(text)) {
    throw badUserInput('Decimal must be a string like "12.50" (at most 18 integer and 8 fractional digits)');
  }
  return canonicalDecimal(text);
}

/**
 * One spelling per value *and scale*: leading zeros go ("007.50" → "7.50") and zero has no sign
 * ("-0.00" → "0.00"), but trailing fractional zeros stay, so the scale a caller gave survives.
 */
export function canonicalDecimal(text: string): string {
  const negative = text.startsWith('-');
  const unsigned = (negative ? text.slice(1) : text).replace(/^0+(?=\d)/, '');
  return negative && /[1-9]/.test(unsigned) ? `-${unsigned}` : unsigned;
}

/** Drops trailing fractional zeros that PostgreSQL's numeric keeps ("1.500000" → "1.5"): for rates, never for money. */
export function normalizeDecimal(text: string): string {
  if (!text.includes('.')) return text === '-0' ? '0' : text;
  const trimmed = text.replace(/0+$/, '').replace(/\.$/, '');
  return trimmed === '-0' ? '0' : trimmed;
}

/**
 * Integers that may exceed 2^53 (aggregates over a whole program). Sent as strings so no client
 * silently rounds them.
 */
export const BigIntScalar = new GraphQLScalarType<bigint, string>({
  name: 'BigInt',
  description: 'A 64-bit integer as a decimal string, e.g. "9007199254740993".',
  serialize(value) {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number' && Number.isInteger(value)) return String(value);
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
    throw new TypeError(`BigInt cannot represent ${String(value)}`);
  },
  parseValue(value) {
    return parseBigInt(value);
  },
  parseLiteral(ast) {
    return parseBigInt(literalText(ast));
  },
});

const INT64_MAX = 2n ** 63n - 1n;
function parseBigInt(value: unknown): bigint {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !/^-?\d{1,19}$/.test(text)) throw badUserInput('BigInt must be an integer string');
  const n = BigInt(text);
  if (n > INT64_MAX || n < -INT64_MAX - 1n) throw badUserInput('BigInt is outside the 64-bit range');
  return n;
}

function literalText(ast: ValueNode): string | undefined {
  if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return ast.value;
  return undefined;
}

/** Every scalar the graph shares; a subgraph declares the ones it uses in its SDL. */
export const scalarResolvers = {
  DateTime: DateTimeScalar,
  Decimal: DecimalScalar,
  BigInt: BigIntScalar,
};
