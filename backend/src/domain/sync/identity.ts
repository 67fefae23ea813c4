import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { byPrimary } from './contact-rollup';

/**
 * Who is who: how a customer's link to a contact was made decides what we may write to that contact.
 *
 * - `created`: we created the contact for this customer. `customer_id`: the contact held this customer's id in our
 *   unique property. Either way the contact is the customer's own: a Stripe email change is written to it.
 * - `email`: the contact already had the customer's email. A Stripe email is unverified (anyone can check out with
 *   anyone's address), so we never write such a contact's email, and the link holds only while the customer's email
 *   is still the one it was matched on (`matchedEmail`). When it changes, the customer leaves the contact (our
 *   properties on it are rolled up again without that customer, or cleared) and is matched afresh by its new email,
 *   or gets a contact of its own.
 */

export type MatchedBy = 'created' | 'customer_id' | 'email';

export interface LinkedCustomer {
  status: CustomerStatus;
  matchedBy: MatchedBy;
  /** For `email` links: the (lower-case) email the contact was matched on. */
  matchedEmail: string | null;
}

export interface Membership<M extends LinkedCustomer> {
  /** Customers that stay on the contact, primary first. */
  stay: M[];
  /** Email-matched customers whose email is no longer the contact's: unlink them and match them afresh. */
  leave: M[];
  /** The email to write to the contact (its owner's), or null: never write it. */
  email: string | null;
}

export const normalEmail = (email: string | null | undefined): string | null => email?.trim().toLowerCase() || null;

/** Whether a customer linked this way may set the contact's email. */
export const ownsContact = (m: LinkedCustomer): boolean => m.matchedBy !== 'email';

/**
 * Which of a contact's linked customers stay and which email (if any) the contact gets. The contact's owner — the
 * first in primary order linked by creation or customer id — decides its email (none when it has none); an
 * email-matched customer stays while its own email and the contact's are still the one it was matched on.
 */
export function membership<M extends LinkedCustomer>(members: readonly M[]): Membership<M> {
  const ordered = [...members].sort((a, b) => byPrimary(a.status, b.status));
  const owner = ordered.find(ownsContact);
  const email = owner ? normalEmail(owner.status.email) : null;
  const stay: M[] = [];
  const leave: M[] = [];
  for (const m of ordered) {
    const keeps =
      ownsContact(m) ||
      (m.matchedEmail !== null && normalEmail(m.status.email) === m.matchedEmail && (email === null || email === m.matchedEmail));
    (keeps ? stay : leave).push(m);
  }
  return { stay, leave, email };
}
