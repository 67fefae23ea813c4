import { BACKEND_URL, REQUEST_TIMEOUT_MS } from '../src/app/cards/config';
import { CardApiError, cardRequestFrom, fetchStatus, isCardResponse, postCard, refreshStatus } from '../src/app/cards/lib/cardApi';
import { customerStatus, fakeHubSpotFetch, linked } from './fixtures';

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

const request = { portalId: 987, contactId: '1501' };

async function failure(promise: Promise<unknown>): Promise<CardApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CardApiError) return err;
    throw err;
  }
  throw new Error('expected a CardApiError');
}

describe('cardRequestFrom', () => {
  it('takes the portal id and the record id (as a string) from the extension context', () => {
    expect(cardRequestFrom({ portal: { id: 42 }, crm: { objectId: 1501 } })).toEqual({ portalId: 42, contactId: '1501' });
  });
});

describe('postCard', () => {
  it('POSTs the request as JSON to the backend with a timeout under 15 s, and returns the answer', async () => {
    const answer = linked(customerStatus());
    const { calls } = fakeHubSpotFetch(() => ({ status: 200, body: answer }));

    await expect(fetchStatus(request)).resolves.toEqual(answer);
    await expect(refreshStatus(request)).resolves.toEqual(answer);
    expect(calls).toEqual([
      { url: `${BACKEND_URL}/api/card/v1/status`, method: 'POST', body: request, timeout: REQUEST_TIMEOUT_MS.status },
      { url: `${BACKEND_URL}/api/card/v1/refresh`, method: 'POST', body: request, timeout: REQUEST_TIMEOUT_MS.refresh },
    ]);
    expect(Math.max(...Object.values(REQUEST_TIMEOUT_MS))).toBeLessThan(15_000);
  });

  it('turns an {error:{code,message}} answer into a CardApiError with the status', async () => {
    fakeHubSpotFetch(() => ({ status: 403, body: { error: { code: 'forbidden', message: 'This portal has no access.' } } }));
    const err = await failure(postCard('status', request));
    expect([err.code, err.message, err.status]).toEqual(['forbidden', 'This portal has no access.', 403]);
  });

  it('reports an error answer that is not JSON by its HTTP status', async () => {
    fakeHubSpotFetch(() => ({ status: 500, text: '<html>Internal Server Error</html>' }));
    const err = await failure(postCard('status', request));
    expect([err.code, err.status]).toEqual(['http_error', 500]);
    expect(err.message).toContain('HTTP 500');
  });

  it.each([
    ['not JSON', { status: 200, text: 'ok' }],
    ['an unknown state', { status: 200, body: { state: 'maybe' } }],
    ['an unknown not-linked reason', { status: 200, body: { state: 'not_linked', reason: 'other', message: 'x' } }],
    ['customers that are not customer statuses', { status: 200, body: { state: 'linked', customers: [{ customerId: 'cus_1' }] } }],
  ])('refuses a success answer with %s', async (_what, answer) => {
    fakeHubSpotFetch(() => answer);
    const err = await failure(postCard('status', request));
    expect(err.code).toBe('bad_response');
  });

  it('reports a network failure of hubspot.fetch', async () => {
    fakeHubSpotFetch(() => new TypeError('Failed to fetch'));
    const err = await failure(postCard('refresh', request));
    expect([err.code, err.status]).toEqual(['network', null]);
  });

  it('gives up with a timeout error when no answer arrives in time', async () => {
    jest.useFakeTimers();
    fakeHubSpotFetch(() => new Promise(() => undefined));
    const pending = failure(postCard('status', request));
    await jest.advanceTimersByTimeAsync(REQUEST_TIMEOUT_MS.status - 1);
    let settled = false;
    void pending.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    const err = await pending;
    expect(err.code).toBe('timeout');
  });
});

describe('isCardResponse', () => {
  it('accepts both answer kinds of the contract', () => {
    expect(isCardResponse(linked(customerStatus(), customerStatus({ customerId: 'cus_2' })))).toBe(true);
    expect(isCardResponse(linked())).toBe(true);
    expect(isCardResponse({ state: 'not_linked', reason: 'no_install', message: 'Install the app.' })).toBe(true);
    expect(isCardResponse({ state: 'not_linked', reason: 'no_customer', message: 'No customer.' })).toBe(true);
  });

  it('rejects anything else', () => {
    expect(isCardResponse(null)).toBe(false);
    expect(isCardResponse([])).toBe(false);
    expect(isCardResponse({ state: 'linked' })).toBe(false);
    expect(isCardResponse({ state: 'not_linked', reason: 'no_install' })).toBe(false);
  });
});
