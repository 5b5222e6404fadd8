import { InputError } from './errors';

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
