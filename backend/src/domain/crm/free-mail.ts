import list from './free-mail-domains.json';

/**
 * Consumer email domains (gmail.com, yahoo.co.uk, …): an address there says nothing about the customer's company.
 * The list is data (`free-mail-domains.json`, with its source); this is how it is read.
 */

const EXACT = new Set(list.domains.map((d) => d.toLowerCase()));
const FAMILIES = new Set(list.families.map((f) => f.toLowerCase()));

/** A hostname of at least two labels (letters, digits, hyphens; punycode included), lower-cased. */
const HOSTNAME = /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/** The domain of an email address, lower-cased and without a trailing dot; null when there is no usable one. */
export function emailDomain(email: string | null | undefined): string | null {
  if (typeof email !== 'string') return null;
  const at = email.lastIndexOf('@');
  if (at <= 0) return null;
  const domain = email.slice(at + 1).trim().toLowerCase().replace(/\.$/, '');
  return HOSTNAME.test(domain) ? domain : null;
}

/**
 * Whether `domain` is a consumer provider's: listed exactly, or a listed family's name followed by a short country or
 * generic suffix of one or two labels (yahoo.fr, yahoo.co.uk, hotmail.com.br — not yahoo-partner.com or yahoo.acme.com).
 */
export function isFreeMailDomain(domain: string): boolean {
  const d = domain.toLowerCase();
  if (EXACT.has(d)) return true;
  const [first, ...suffix] = d.split('.');
  return FAMILIES.has(first!) && suffix.length >= 1 && suffix.length <= 2 && suffix.every((label) => /^[a-z]{2,3}$/.test(label));
}
