import { InputError } from './errors';
import { isUuid } from './ids';

/**
 * Free text a caller sends (names, reasons, comments), trimmed and bounded: 1 to `max` characters,
 * refused as BAD_USER_INPUT naming the field. Control characters were refused at the boundary.
 */
export function checkText(value: string, field: string, max: number): string {
  const text = value.trim();
  if (!text || text.length > max) throw new InputError(`${field.split('.').pop()} must be 1 to ${max} characters`, field);
  return text;
}

/** The same, optional: null when absent or blank. */
export function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  if (value === null || value === undefined || !value.trim()) return null;
  return checkText(value, field, max);
}

/** A whole number from `min` to `max`, or a BAD_USER_INPUT naming the field and the range. */
export function checkInt(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InputError(`${field.split('.').pop()} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`, field);
  }
  return value;
}

/** A UUID in its canonical lower case, or a BAD_USER_INPUT naming the field. */
export function checkUuid(value: string, field: string): string {
  if (!isUuid(value)) throw new InputError(`${field.split('.').pop()} must be a UUID`, field);
  return value.toLowerCase();
}
