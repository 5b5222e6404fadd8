import { DomainError, InputError } from '@loyalty-graph/shared';
import { checkText, LIMITS, optionalText } from './limits';

export type PartnerCategory = 'FUEL' | 'RETAIL' | 'TRAVEL' | 'HOSPITALITY' | 'FINANCE' | 'OTHER';
export type PartnerStatus = 'ACTIVE' | 'SUSPENDED' | 'ENDED';

export interface PartnerContact {
  name: string;
  email: string | null;
  phone: string | null;
  role: string | null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^[+\d][\d ()+-]*$/;

/** Up to LIMITS.contacts contacts, trimmed; email and phone checked for shape only (nobody is written to). */
export function checkContacts(contacts: readonly { name: string; email?: string | null; phone?: string | null; role?: string | null }[] | null | undefined, field: string): PartnerContact[] {
  const list = contacts ?? [];
  if (list.length > LIMITS.contacts) throw new InputError(`${field} may list at most ${LIMITS.contacts} contacts`, field);
  return list.map((c, i) => {
    const email = optionalText(c.email, `${field}.${i}.email`, LIMITS.emailLength);
    if (email && !EMAIL.test(email)) throw new InputError('email must be an email address', `${field}.${i}.email`);
    const phone = optionalText(c.phone, `${field}.${i}.phone`, LIMITS.phoneMaxLength);
    if (phone && (phone.length < LIMITS.phoneMinLength || !PHONE.test(phone))) {
      throw new InputError(`phone must be ${LIMITS.phoneMinLength} to ${LIMITS.phoneMaxLength} digits, spaces and + ( ) -`, `${field}.${i}.phone`);
    }
    return {
      name: checkText(c.name, `${field}.${i}.name`, LIMITS.contactNameLength),
      email: email?.toLowerCase() ?? null,
      phone,
      role: optionalText(c.role, `${field}.${i}.role`, LIMITS.contactRoleLength),
    };
  });
}

export function checkPartnerName(name: string, field = 'name'): string {
  return checkText(name, field, LIMITS.partnerNameLength);
}

/** ENDED is for good: a partnership that ended is a new partner if it comes back (its settlements stay closed). */
export function assertStatusChange(from: PartnerStatus, to: PartnerStatus): void {
  if (from === 'ENDED' && to !== 'ENDED') throw new DomainError('PARTNER_ENDED', 'An ENDED partner cannot take part again', 'status');
}
