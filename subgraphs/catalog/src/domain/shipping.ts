import { InputError } from '@loyalty-graph/shared';
import { checkText, optionalText } from './limits';

/** Where a parcel goes, as the member gave it when ordering. */
export interface ShippingAddress {
  name: string;
  line1: string;
  line2?: string | null;
  postalCode: string;
  city: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  phone?: string | null;
}

export function checkShippingAddress(address: ShippingAddress, field: string): ShippingAddress {
  const country = address.country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) throw new InputError('country must be an ISO 3166-1 alpha-2 code such as PL, DK', `${field}.country`);
  return {
    name: checkText(address.name, `${field}.name`, 200),
    line1: checkText(address.line1, `${field}.line1`, 200),
    line2: optionalText(address.line2 ?? null, `${field}.line2`, 200),
    postalCode: checkText(address.postalCode, `${field}.postalCode`, 20),
    city: checkText(address.city, `${field}.city`, 100),
    country,
    phone: optionalText(address.phone ?? null, `${field}.phone`, 40),
  };
}
