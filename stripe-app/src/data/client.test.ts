jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  fetchStripeSignature: jest.fn(async () => 't=1700000000,v1=fake-signature'),
}));

import { fetchStripeSignature } from '@stripe/ui-extension-sdk/utils';
import { apiError, BACKEND_ORIGIN, installFakeBackend, ok, type FakeBackend } from '../../test/fakeBackend';
import { createBackendClient, type ApiContext } from './client';
import { defaultSettings } from './contracts';
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
