import { InputError } from '@loyalty-graph/shared';

/** Trims and bounds free text; empty after trimming counts as missing. */
export function requiredText(value: string, field: string, maxLength: number): string {
  const text = value.trim();
  if (!text) throw new InputError(`${field} must not be empty`, field);
  if (text.length > maxLength) throw new InputError(`${field} must be at most ${maxLength} characters`, field);
  return text;
}

export function optionalText(value: string | null | undefined, field: string, maxLength: number): string | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (!text) return null;
  if (text.length > maxLength) throw new InputError(`${field} must be at most ${maxLength} characters`, field);
  return text;
}
