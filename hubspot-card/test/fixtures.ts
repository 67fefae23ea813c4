import { hubspot } from '@hubspot/ui-extensions';
import type { CardCustomer, CardResponse, CustomerStatus } from '../src/app/cards/lib/contracts';

/** 2026-03-03T15:00:00Z, and days around it, in unix seconds. */
export const T0 = Date.UTC(2026, 2, 3, 15, 0, 0) / 1000;
export const DAY = 86_400;

/** A linked, active, live-mode customer in USD; override any field. */
export function customerStatus(overrides: Partial<CustomerStatus> = {}): CustomerStatus {
  return {
    accountId: 'acct_1Merchant',
    livemode: true,
    customerId: 'cus_Active1',
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    currency: 'usd',
    customerSince: T0 - 400 * DAY,
    subscription: {
      id: 'sub_1',
      status: 'active',
      plan: 'Pro (monthly)',
      mrr: 4900,
      currency: 'usd',
      currentPeriodEnd: T0 + 20 * DAY,
      cancelAtPeriodEnd: false,
    },
    lastPayment: { amount: 4900, currency: 'usd', at: T0 - 10 * DAY, status: 'succeeded' },
    lastFailureReason: null,
    failedPaymentCount: 0,
    openInvoiceCount: 0,
    openAmountDue: 0,
    lifetimeValue: 58_800,
    totalRefunded: 0,
    disputedAmount: 0,
    nextInvoiceAmount: 4900,
    delinquent: false,
    deleted: false,
    dashboardUrl: 'https://dashboard.stripe.com/acct_1Merchant/customers/cus_Active1',
    updatedAt: '2026-03-03T14:59:00.000Z',
    lastSyncedAt: '2026-03-03T15:00:00.000Z',
    ...overrides,
  };
}

export const linked = (...customers: CardCustomer[]): CardResponse => ({ state: 'linked', customers, syncing: 0 });

/** A not-linked answer; `canCheckStripe` as the backend would say it. */
export const notLinked = (
  reason: 'no_install' | 'no_customer',
  message: string,
  extra: { canCheckStripe?: boolean; warning?: string } = {},
): CardResponse => ({ state: 'not_linked', reason, message, canCheckStripe: extra.canCheckStripe ?? reason === 'no_customer', ...extra });

export interface RecordedCall {
  url: string;
  method: string | undefined;
  body: Record<string, unknown> | undefined;
  timeout: number | undefined;
}

export type FakeAnswer = { status: number; body: unknown } | { status: number; text: string } | Error;

/**
 * Replaces `hubspot.fetch` (the platform boundary: in HubSpot it is the host's signed proxy) with a fake that answers
 * from `answer`, which may return a promise to hold the response back. Records every call.
 */
export function fakeHubSpotFetch(answer: (call: RecordedCall, index: number) => FakeAnswer | Promise<FakeAnswer>) {
  const calls: RecordedCall[] = [];
  const spy = jest.spyOn(hubspot, 'fetch').mockImplementation(async (url, options) => {
    const call: RecordedCall = {
      url: String(url),
      method: options?.method,
      body: options?.body as Record<string, unknown> | undefined,
      timeout: options?.timeout,
    };
    calls.push(call);
    const result = await answer(call, calls.length - 1);
    if (result instanceof Error) throw result;
    const init = { status: result.status, headers: { 'content-type': 'application/json' } };
    return 'text' in result ? new Response(result.text, init) : new Response(JSON.stringify(result.body), init);
  });
  return { calls, spy };
}

/** A promise to hand out now and settle later, to control the order in which answers arrive. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
