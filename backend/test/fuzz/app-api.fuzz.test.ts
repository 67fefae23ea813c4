import fc from 'fast-check';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { TEST_APP_SECRET } from '../helpers/app-api';
import { signatureHeader } from '../helpers/stripe-fixtures';
import { APP_API_PREFIX } from '@stripe-hubspot-sync/contracts';
import {
  anyBody,
  appApiContentEncoding as contentEncoding,
  appApiContentType as contentType,
  expectNoServerError,
  extraHeaders,
  FUZZ_RUNS,
  headerValue,
  KNOWN_5XX,
  rawRequest,
  rowCounts,
  type RawAnswer,
} from './fuzz-support';

/**
 * The Stripe App API (/api/app/v1) with random methods, paths, headers, bodies and signatures: never a 5xx, always
 * our JSON error shape, and nothing written. Signed requests with random paths and bodies are refused too.
 */

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'];
const ROUTES = [
  '/settings', '/hubspot/authorize-url', '/hubspot/connect', '/hubspot/connection', '/hubspot/connection/test', '/activity', '/dead-letters/replay',
  '/customers/cus_x', '/customers/cus_x/sync', '/backfill', '/backfill/cancel',
];
const segment = fc.oneof(
  fc.constantFrom('settings', 'hubspot', 'customers', '..', '.', '%00', '%2e%2e', 'sync', '', 'cus_%ZZ', '__proto__', 'constructor'),
  fc.stringMatching(/^[A-Za-z0-9_.~-]{1,12}$/),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?mode=test', '?mode=live', '?mode=prod', '?mode=', '?mode[]=test', '?mode=test&mode=live', '?limit=-1&mode=test', '?state=&mode=test', '?outcome=%ff&mode=test'),
  fc.dictionary(fc.stringMatching(/^[a-z[\]]{1,8}$/), fc.string({ maxLength: 10 }), { maxKeys: 3 }).map((d) => `?${new URLSearchParams(d).toString()}`),
);
const path = fc
  .oneof(fc.constantFrom(...ROUTES), fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`))
  .chain((p) => query.map((q) => `${APP_API_PREFIX}${p}${q}`));

const ACCOUNT = 'acct_fuzzapp';
const USER = 'usr_fuzzapp';
const goodPayload = (user: string, account: string) => JSON.stringify({ user_id: user, account_id: account });

/** Identity headers with a signature that does not verify them. */
const badIdentity = fc.oneof(
  fc.record({ sig: fc.option(headerValue, { nil: undefined }), user: fc.option(headerValue, { nil: undefined }), account: fc.option(headerValue, { nil: undefined }) }),
  // Signed for another account, another user, with another secret, or too long ago.
  fc.constantFrom(
    { sig: signatureHeader(goodPayload(USER, 'acct_other'), TEST_APP_SECRET), user: USER, account: ACCOUNT },
    { sig: signatureHeader(goodPayload('usr_other', ACCOUNT), TEST_APP_SECRET), user: USER, account: ACCOUNT },
    { sig: signatureHeader(goodPayload(USER, ACCOUNT), 'absec_wrong'), user: USER, account: ACCOUNT },
    { sig: signatureHeader(JSON.stringify({ account_id: ACCOUNT, user_id: USER }).replace(/^{/, '{ '), TEST_APP_SECRET), user: USER, account: ACCOUNT },
  ),
  fc.integer({ min: 301, max: 10 ** 7 }).map((age) => ({
    sig: signatureHeader(goodPayload(USER, ACCOUNT), TEST_APP_SECRET, Math.floor(Date.now() / 1000) - age),
    user: USER,
    account: ACCOUNT,
  })),
);

/** The OAuth routes' answers on a backend without HubSpot OAuth (see KNOWN_5XX.appApiOAuthUpstreamAnswers). */
function isKnownOAuthAnswer(method: string, p: string, a: RawAnswer): boolean {
  const route = p.slice(APP_API_PREFIX.length).split('?')[0].replace(/\/$/, '').toLowerCase();
  const code = (() => {
    try {
      return (JSON.parse(a.text) as { error?: { code?: string } }).error?.code;
    } catch {
      return undefined;
    }
  })();
  return (
    (method === 'POST' && route === '/hubspot/connect' && a.status === 503 && code === 'not_connected') ||
    (method === 'GET' && route === '/hubspot/authorize-url' && a.status === 503 && code === 'not_connected')
  );
}

describe.each(dbKinds())('app API fuzz on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind, env: { STRIPE_APP_SECRET: TEST_APP_SECRET } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const send = (method: string, p: string, headers: Record<string, string>, body: Buffer | string) =>
    rawRequest(h.server.url, { method, path: p, headers, body: method === 'GET' ? '' : body });

  it('refuses unsigned and badly signed requests: 4xx (or a CORS preflight), no write', async () => {
    const before = await rowCounts(h.server.db);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), path, badIdentity, anyBody, contentType, contentEncoding, extraHeaders, async (method, p, id, body, ct, ce, extra) => {
        const headers: Record<string, string> = { ...extra };
        if (ct) headers['content-type'] = ct;
        if (ce) headers['content-encoding'] = ce;
        if (id.sig !== undefined) headers['stripe-signature'] = id.sig;
        if (id.user !== undefined) headers['x-stripe-user-id'] = id.user;
        if (id.account !== undefined) headers['x-stripe-account-id'] = id.account;
        const a = await send(method, p, headers, body);
        expectNoServerError(a, `${method} ${p}`);
        if (method === 'OPTIONS') expect([204, 404].includes(a.status) || a.status >= 400).toBe(true);
        else expect(a.status).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(await rowCounts(h.server.db)).toEqual(before);
  });

  it('answers signed requests with random paths and bodies without a 5xx and without a write', async () => {
    const before = await rowCounts(h.server.db);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...METHODS.filter((m) => m !== 'OPTIONS')),
        path,
        fc.oneof(anyBody, fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ mode: 'test', settings: v, ids: v, all: v, code: v }))),
        contentType,
        fc.constantFrom(ACCOUNT, 'acct_other2', 'x'),
        async (method, p, body, ct, account) => {
          const settingsWithoutJson = method === 'PUT' && /\/settings\/?(\?|$)/i.test(p) && ct !== 'application/json' && ct !== 'application/json; charset=utf-8';
          fc.pre(!(KNOWN_5XX.appApiSettingsWithoutJsonBody && settingsWithoutJson));
          const headers: Record<string, string> = {
            'stripe-signature': signatureHeader(goodPayload(USER, account), TEST_APP_SECRET),
            'x-stripe-user-id': USER,
            'x-stripe-account-id': account,
          };
          if (ct) headers['content-type'] = ct;
          const a = await send(method, p, headers, body);
          if (KNOWN_5XX.appApiOAuthUpstreamAnswers && isKnownOAuthAnswer(method, p, a)) return;
          expectNoServerError(a, `signed ${method} ${p}`);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect(await rowCounts(h.server.db)).toEqual(before);
  });
});
