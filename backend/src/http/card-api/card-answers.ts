import type { CardCustomer, CardResponse } from '@stripe-hubspot-sync/contracts';
import type { LinkedCustomer, ReadableCustomers } from './portal-accounts';
import { customerCrmRecords } from '../../domain/crm/customer-records';
import { hubspotAppOrigin } from '../../domain/crm/hubspot-links';
import type { ContactLookup } from './stripe-lookup';

/**
 * The card's answers, from what the portal may read of a contact. Every text here is shown to HubSpot users as is:
 * it says what is true and what they can do, and never names the operator's configuration.
 */

export type Refresher = (account: string, livemode: boolean, customerId: string, signal: AbortSignal) => Promise<void>;

export interface AnswerDeps {
  /** Reads a customer's live state from Stripe into the read model (throws when Stripe is slow or down). */
  refresh?: Refresher;
  /** Looks an unlinked contact's email up in Stripe and links what it finds. */
  lookup?: ContactLookup;
  /** Our own deadline for Stripe (HubSpot gives up after 15 s). */
  timeoutMs: number;
}

const NOT_CONNECTED = 'This HubSpot account is not connected to a Stripe account yet.';
const NO_CUSTOMER = 'No Stripe customer is linked to this contact. Customers are linked by their Stripe customer id or email when they pay.';

/** The answer for what is stored now. */
export function answerOf(readable: ReadableCustomers, deps: AnswerDeps, warning?: string): CardResponse {
  const { links } = readable;
  if (links.length === 0) {
    if (!readable.connected) return { state: 'not_linked', reason: 'no_install', message: NOT_CONNECTED, canCheckStripe: false };
    return {
      state: 'not_linked',
      reason: 'no_customer',
      message: NO_CUSTOMER,
      canCheckStripe: deps.lookup !== undefined,
      ...(warning ? { warning } : {}),
    };
  }
  const origin = hubspotAppOrigin(readable.hublet);
  const customers: CardCustomer[] = links.flatMap((l) =>
    l.status ? [{ ...l.status, ...customerCrmRecords(l.crm, { origin, portalId: readable.portalId, currency: l.status.currency }) }] : [],
  );
  return { state: 'linked', customers, syncing: links.length - customers.length, ...(warning ? { warning } : {}) };
}

/** The no_customer answer after a lookup in Stripe found nothing to link, saying why. */
export function notFoundAnswer(readable: ReadableCustomers, deps: AnswerDeps, message: string | undefined, warning?: string): CardResponse {
  const answer = answerOf(readable, deps, warning);
  return answer.state === 'not_linked' && message ? { ...answer, message } : answer;
}

/** Runs `work` with an abort signal under our deadline; 'timeout' when the deadline came first. */
async function withDeadline<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T | 'timeout'> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const lastSynced = 'showing the last synced state.';

/** Refreshes every linked customer from Stripe within our deadline; the warning when the figures are not fresh. */
export async function refreshLinked(deps: AnswerDeps, links: LinkedCustomer[]): Promise<string | undefined> {
  const refresh = deps.refresh;
  if (!refresh) return `Live refresh from Stripe is not set up on this sync service; ${lastSynced}`;
  const outcome = await withDeadline(deps.timeoutMs, (signal) =>
    Promise.allSettled(links.map((l) => refresh(l.account, l.livemode, l.customerId, signal))),
  );
  if (outcome === 'timeout') return `Stripe did not answer within ${Math.round(deps.timeoutMs / 1000)} s; ${lastSynced}`;
  const failed = links.flatMap((l, i) => (outcome[i]?.status === 'rejected' ? [{ link: l, err: (outcome[i] as PromiseRejectedResult).reason }] : []));
  if (failed.length === 0) return undefined;
  // A refresh sooner than the minimum interval, or of an uninstalled account, says so in the refresher's words.
  const told = failed.find((f) => ['throttled', 'uninstalled'].includes(String((f.err as { reason?: unknown } | null)?.reason)));
  if (told) return (told.err as { cardWarning: string }).cardWarning;
  // The refresher says why it did not ask Stripe for a customer (a mode its key does not read, a read moments ago, an
  // uninstalled app): shown as it says it, unless it names our configuration.
  const notAsked = failed.find((f) => typeof (f.err as { cardWarning?: unknown } | null)?.cardWarning === 'string');
  if (notAsked) {
    return forHubSpotUsers(
      (notAsked.err as { cardWarning: string }).cardWarning,
      `This sync service does not read ${notAsked.link.livemode ? 'live' : 'test'}-mode customers from Stripe live; ${lastSynced}`,
    );
  }
  return `Stripe could not be reached; ${lastSynced}`;
}

/** An environment variable's name (e.g. STRIPE_API_KEY): for operators, never for HubSpot users. */
const CONFIGURATION_NAME = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/;

/** `text` when it is fit for HubSpot users, else `instead`. */
export function forHubSpotUsers(text: string, instead: string): string {
  return CONFIGURATION_NAME.test(text) ? instead : text;
}

/** Looks an unlinked contact up in Stripe within our deadline. */
export async function lookUpContact(
  deps: AnswerDeps & { lookup: ContactLookup },
  portalId: number,
  contactId: string,
): Promise<{ found: number; message?: string; warning?: string }> {
  try {
    const outcome = await withDeadline(deps.timeoutMs, (signal) => deps.lookup(portalId, contactId, signal));
    if (outcome === 'timeout') {
      return { found: 0, warning: `Stripe did not answer within ${Math.round(deps.timeoutMs / 1000)} s; nothing was looked up.` };
    }
    return outcome;
  } catch {
    return { found: 0, warning: 'Stripe or HubSpot could not be reached to look this contact up; try again in a moment.' };
  }
}

/** The message when customers were found in Stripe but the pusher has not linked them yet. */
export function foundMessage(found: number): string {
  return found === 1
    ? 'Stripe has a customer with this contact’s email; it is being linked to this contact. Check again in a moment.'
    : `Stripe has ${found} customers with this contact’s email; they are being linked to this contact. Check again in a moment.`;
}

/**
 * Reads until the contact has links (the pusher links what a lookup found within a second or so), at most
 * `maxWaitMs`; answers the last read.
 */
export async function untilLinked(read: () => Promise<ReadableCustomers>, maxWaitMs: number, everyMs = 200): Promise<ReadableCustomers> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const readable = await read();
    if (readable.links.length > 0 || Date.now() + everyMs > deadline) return readable;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
