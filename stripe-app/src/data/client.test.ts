jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
  isSourceInAuthorizedCSP: jest.fn(async () => true),
}));

import { fetchStripeSignature, isSourceInAuthorizedCSP } from '@stripe/ui-extension-sdk/utils';
import { apiError, BACKEND_ORIGIN, installFakeBackend, ok, type FakeBackend } from '../../test/fakeBackend';
import { createBackendClient, type ApiContext } from './client';
import { defaultDestinationSettings, defaultSettings } from './contracts';
import { ApiRequestError } from './errors';
import { apiContextFrom } from './useBackend';
import { viewProps } from '../../test/fixtures';

const CTX: ApiContext = { backendUrl: BACKEND_ORIGIN, userId: 'usr_1', accountId: 'acct_1', mode: 'test' };

let backend: FakeBackend;
beforeEach(() => {
  backend = installFakeBackend();
});
afterEach(() => {
  backend.restore();
  jest.clearAllMocks();
});

async function rejection(p: Promise<unknown>): Promise<ApiRequestError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiRequestError);
    return err as ApiRequestError;
  }
  throw new Error('expected the call to fail');
}

describe('backend client', () => {
  it('signs every call and sends who is calling; GETs carry the mode in the query', async () => {
    backend.route('GET /activity', ok({ mode: 'test', counts24h: {}, events: [], deadLetters: [] }));
    await createBackendClient(CTX).getActivity({ outcome: 'failed', limit: 20 });
    const [req] = backend.requests;
    expect(req.query).toEqual({ mode: 'test', outcome: 'failed', limit: '20' });
    expect(req.headers).toEqual({
      accept: 'application/json',
      'stripe-signature': 't=1700000000,v1=fake-signature',
      'x-stripe-user-id': 'usr_1',
      'x-stripe-account-id': 'acct_1',
    });
    expect(fetchStripeSignature).toHaveBeenCalledTimes(1);
  });

  it('sends JSON bodies with the mode inside, not in the query', async () => {
    backend.route('PUT /settings', ok({}));
    await createBackendClient({ ...CTX, mode: 'live' }).saveSettings(defaultSettings());
    const [req] = backend.requests;
    expect(req.query).toEqual({});
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toEqual({ mode: 'live', settings: defaultSettings() });
  });

  it('builds paths under the app prefix, escaping ids, and tolerates a trailing slash in BACKEND_URL', async () => {
    backend.route('POST /customers/cus_a%2Fb/sync', ok({ queued: true }));
    const res = await createBackendClient({ ...CTX, backendUrl: `${BACKEND_ORIGIN}/` }).syncCustomer('cus_a/b');
    expect(res).toEqual({ queued: true });
    expect(backend.requests[0].body).toEqual({ mode: 'test' });
  });

  it('connects HubSpot in the documented steps: authorize URL, connect, confirm or cancel', async () => {
    backend.route('GET /hubspot/authorize-url', ok({ url: 'https://app.hubspot.com/oauth/authorize' }));
    backend.route('POST /hubspot/connect', ok({ pending: {} }));
    backend.route('POST /hubspot/connect/confirm', ok({ connection: {} }));
    backend.route('POST /hubspot/connect/cancel', ok({ canceled: true }));
    const client = createBackendClient(CTX);
    await client.getAuthorizeUrl('st', 'ch');
    await client.connectHubSpot({ code: 'c', state: 'st', verifier: 'v' });
    await client.confirmHubSpot(42);
    await client.cancelHubSpot();
    expect(backend.requests.map((r) => [r.method, r.path, r.query, r.body])).toEqual([
      ['GET', '/hubspot/authorize-url', { mode: 'test', state: 'st', challenge: 'ch' }, undefined],
      ['POST', '/hubspot/connect', {}, { mode: 'test', code: 'c', state: 'st', verifier: 'v' }],
      ['POST', '/hubspot/connect/confirm', {}, { mode: 'test', portalId: 42 }],
      ['POST', '/hubspot/connect/cancel', {}, { mode: 'test' }],
    ]);
  });

  it('sends replay selections as given', async () => {
    backend.route('POST /dead-letters/replay', ok({ replayed: 1 }));
    const client = createBackendClient(CTX);
    await client.replayDeadLetters({ ids: ['dl_1'] });
    await client.replayDeadLetters({ all: true });
    expect(backend.requests.map((r) => r.body)).toEqual([
      { mode: 'test', ids: ['dl_1'] },
      { mode: 'test', all: true },
    ]);
  });

  it('asks for a destination’s authorize URL with its environment (Salesforce) or region (Intercom) only, and posts its code to its own route', async () => {
    for (const kind of ['klaviyo', 'intercom', 'salesforce']) {
      backend.route(`GET /destinations/${kind}/authorize-url`, ok({ url: `https://${kind}.example/authorize` }));
      backend.route(`POST /destinations/${kind}/connect`, { status: 201, body: { destination: {} } });
    }
    const client = createBackendClient(CTX);
    expect(await client.destinationAuthorizeUrl('salesforce', { environment: 'sandbox', region: 'eu' })).toEqual({
      url: 'https://salesforce.example/authorize',
    });
    await client.destinationAuthorizeUrl('intercom', { environment: 'sandbox', region: 'eu' });
    await client.destinationAuthorizeUrl('klaviyo', { environment: 'production', region: 'au' });
    await client.destinationAuthorizeUrl('salesforce');
    await client.connectDestinationOAuth('salesforce', { code: 'c1', state: 'salesforce.s1' });
    expect(backend.requests.map((r) => [r.method, r.path, r.query, r.body])).toEqual([
      ['GET', '/destinations/salesforce/authorize-url', { mode: 'test', environment: 'sandbox' }, undefined],
      ['GET', '/destinations/intercom/authorize-url', { mode: 'test', region: 'eu' }, undefined],
      ['GET', '/destinations/klaviyo/authorize-url', { mode: 'test' }, undefined],
      ['GET', '/destinations/salesforce/authorize-url', { mode: 'test' }, undefined],
      ['POST', '/destinations/salesforce/connect', {}, { mode: 'test', code: 'c1', state: 'salesforce.s1' }],
    ]);
  });

  it('sends the destination calls as the contracts say: mode in the query for GETs, in the body otherwise', async () => {
    for (const key of [
      'GET /destinations',
      'POST /destinations',
      'PUT /destinations/dst_a%2Fb/settings',
      'POST /destinations/dst_a%2Fb/test',
      'DELETE /destinations/dst_a%2Fb',
      'GET /destinations/dst_a%2Fb/activity',
      'POST /destinations/dst_a%2Fb/dead-letters/replay',
    ]) {
      backend.route(key, ok({}));
    }
    const client = createBackendClient(CTX);
    const settings = defaultDestinationSettings('loops');
    await client.listDestinations();
    await client.createDestination('klaviyo', 'pk_secret');
    await client.createDestination('loops', 'loops_secret', { settings });
    await client.createDestination('intercom', 'ic_token', { region: 'eu' });
    await client.saveDestinationSettings('dst_a/b', settings);
    await client.testDestination('dst_a/b');
    await client.deleteDestination('dst_a/b', 'dst_a/b');
    await client.getDestinationActivity('dst_a/b');
    await client.replayDestinationDeadLetters('dst_a/b', { customerIds: ['cus_1'] });
    await client.replayDestinationDeadLetters('dst_a/b', { all: true });
    expect(backend.requests.map((r) => [r.method, r.path, r.query, r.body])).toEqual([
      ['GET', '/destinations', { mode: 'test' }, undefined],
      ['POST', '/destinations', {}, { mode: 'test', kind: 'klaviyo', apiKey: 'pk_secret' }],
      ['POST', '/destinations', {}, { mode: 'test', kind: 'loops', apiKey: 'loops_secret', settings }],
      ['POST', '/destinations', {}, { mode: 'test', kind: 'intercom', apiKey: 'ic_token', region: 'eu' }],
      ['PUT', '/destinations/dst_a%2Fb/settings', {}, { mode: 'test', settings }],
      ['POST', '/destinations/dst_a%2Fb/test', {}, { mode: 'test' }],
      ['DELETE', '/destinations/dst_a%2Fb', {}, { mode: 'test', confirm: 'dst_a/b' }],
      ['GET', '/destinations/dst_a%2Fb/activity', { mode: 'test' }, undefined],
      ['POST', '/destinations/dst_a%2Fb/dead-letters/replay', {}, { mode: 'test', customerIds: ['cus_1'] }],
      ['POST', '/destinations/dst_a%2Fb/dead-letters/replay', {}, { mode: 'test', all: true }],
    ]);
  });

  it('parses the API error body, field details included', async () => {
    backend.route(
      'PUT /settings',
      apiError(400, 'invalid_settings', 'Settings are invalid', [{ path: 'fields.mrr.property', message: 'bad name' }]),
    );
    const err = await rejection(createBackendClient(CTX).saveSettings(defaultSettings()));
    expect(err).toMatchObject({ code: 'invalid_settings', status: 400, message: 'Settings are invalid' });
    expect(err.details).toEqual([{ path: 'fields.mrr.property', message: 'bad name' }]);
    expect(err.unreachable).toBe(false);
  });

  it('turns a non-JSON error page into an internal error with the status', async () => {
    backend.route('GET /settings', { status: 502, raw: '<html>Bad gateway</html>' });
    const err = await rejection(createBackendClient(CTX).getSettings());
    expect(err).toMatchObject({ code: 'internal', status: 502 });
  });

  it('rejects a 200 that is not JSON', async () => {
    backend.route('GET /settings', { status: 200, raw: 'hello' });
    expect(await rejection(createBackendClient(CTX).getSettings())).toMatchObject({ code: 'bad_response' });
  });

  it('reports a network failure as unreachable', async () => {
    backend.route('GET /settings', 'network-error');
    const err = await rejection(createBackendClient(CTX).getSettings());
    expect(err.code).toBe('network_error');
    expect(err.unreachable).toBe(true);
    expect(isSourceInAuthorizedCSP).toHaveBeenCalledWith(`${BACKEND_ORIGIN}/api/app/v1/settings?mode=test`);
  });

  it('tells a URL outside the manifest’s connect-src apart from a network failure', async () => {
    backend.route('GET /activity', 'network-error');
    jest.mocked(isSourceInAuthorizedCSP).mockResolvedValueOnce(false);
    const err = await rejection(createBackendClient(CTX).getActivity());
    expect(err.code).toBe('blocked_by_csp');
    expect(err.unreachable).toBe(false);
    expect(err.message).toMatch(/configuration does not allow it to reach its sync service at https:\/\/backend\.test /);
  });

  it('counts a CSP answer the Dashboard cannot give as a network failure', async () => {
    backend.route('GET /activity', 'network-error');
    jest.mocked(isSourceInAuthorizedCSP).mockRejectedValueOnce(new Error('host unavailable'));
    expect((await rejection(createBackendClient(CTX).getActivity())).code).toBe('network_error');
  });

  it('asks the CSP nothing when the backend answered, even with an error', async () => {
    backend.route('GET /settings', apiError(500, 'internal', 'boom'));
    await rejection(createBackendClient(CTX).getSettings());
    expect(isSourceInAuthorizedCSP).not.toHaveBeenCalled();
  });

  it('gives up after the timeout', async () => {
    backend.route('GET /settings', 'hang');
    const started = Date.now();
    const err = await rejection(createBackendClient(CTX, { timeoutMs: 50 }).getSettings());
    expect(err.code).toBe('timeout');
    expect(err.unreachable).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('calls nothing without a BACKEND_URL', async () => {
    const err = await rejection(createBackendClient({ ...CTX, backendUrl: '' }).getSettings());
    expect(err.code).toBe('not_configured');
    expect(backend.requests).toHaveLength(0);
    expect(fetchStripeSignature).not.toHaveBeenCalled();
  });

  it('calls nothing unsigned when the Dashboard gives no signature', async () => {
    jest.mocked(fetchStripeSignature).mockRejectedValueOnce(new Error('host unavailable'));
    const err = await rejection(createBackendClient(CTX).getSettings());
    expect(err.code).toBe('missing_signature');
    expect(backend.requests).toHaveLength(0);
  });
});

describe('apiContextFrom', () => {
  it('reads the user, account, mode and BACKEND_URL constant of the view', () => {
    expect(apiContextFrom(viewProps({ mode: 'live' }))).toEqual({
      backendUrl: BACKEND_ORIGIN,
      userId: 'usr_test_1',
      accountId: 'acct_test_1',
      mode: 'live',
    });
    expect(apiContextFrom(viewProps({ backendUrl: null })).backendUrl).toBe('');
  });
});
