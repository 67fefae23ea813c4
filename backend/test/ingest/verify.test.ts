import { verifyStripeWebhook } from '../../src/ingest/verify';
import { signatureHeader, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

const SECRETS = ['whsec_old', 'whsec_new'];
const now = () => Math.floor(Date.now() / 1000);

describe('verifyStripeWebhook', () => {
  const event = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_V' }), {
    id: 'evt_verify',
    account: 'acct_123',
    livemode: true,
  });
  const payload = JSON.stringify(event);

  it('accepts a body signed with any secret of the list and extracts the inbox fields', () => {
    for (const secret of SECRETS) {
      const r = verifyStripeWebhook(Buffer.from(payload), signatureHeader(payload, secret), SECRETS, 300);
      expect(r).toEqual({
        ok: true,
        event: { id: 'evt_verify', type: 'customer.created', accountId: 'acct_123', livemode: true, created: event.created, raw: payload },
      });
    }
  });

  it.each([
    ['no header', undefined, 'missing_signature'],
    ['an empty header', '', 'missing_signature'],
    ['another secret', signatureHeader(payload, 'whsec_other'), 'invalid_signature'],
    ['a header that is not a signature', 'garbage', 'invalid_signature'],
    ['a signature older than the tolerance', signatureHeader(payload, 'whsec_new', now() - 301), 'stale_signature'],
  ])('rejects %s', (_what, header, code) => {
    const r = verifyStripeWebhook(payload, header, SECRETS, 300);
    expect(r).toMatchObject({ ok: false, code });
  });

  it('accepts a signature within the tolerance', () => {
    const r = verifyStripeWebhook(payload, signatureHeader(payload, 'whsec_old', now() - 250), SECRETS, 300);
    expect(r.ok).toBe(true);
  });

  it('rejects a body changed after signing', () => {
    const header = signatureHeader(payload, 'whsec_old');
    const r = verifyStripeWebhook(payload.replace('cus_V', 'cus_W'), header, SECRETS, 300);
    expect(r).toMatchObject({ ok: false, code: 'invalid_signature' });
  });

  it('rejects a correctly signed body that is not JSON, or not an event', () => {
    const broken = '{"id": "evt_1", ';
    expect(verifyStripeWebhook(broken, signatureHeader(broken, 'whsec_old'), SECRETS, 300)).toMatchObject({
      ok: false,
      code: 'malformed_json',
    });
    for (const body of ['[1,2]', '{"id":"evt_1","type":"x","livemode":false}', '{"type":"customer.created","created":1,"livemode":false}']) {
      expect(verifyStripeWebhook(body, signatureHeader(body, 'whsec_old'), SECRETS, 300)).toMatchObject({
        ok: false,
        code: 'bad_request',
      });
    }
  });

  it('rejects a signed event whose id, type or account could not be stored (NUL, lone surrogate, empty, too long)', () => {
    const cases: [string, unknown][] = [
      ['account', '\u0000'],
      ['account', 'acct_\ud800'],
      ['account', ''],
      ['account', 'a'.repeat(256)],
      ['account', 42],
      ['id', 'evt_\u0000'],
      ['type', 'customer.created\udc00'],
    ];
    for (const [field, value] of cases) {
      const body = JSON.stringify({ ...event, [field]: value });
      expect(verifyStripeWebhook(body, signatureHeader(body, 'whsec_old'), SECRETS, 300)).toMatchObject({ ok: false, code: 'bad_request' });
    }
    const paired = JSON.stringify({ ...event, account: 'acct_\ud83d\ude00' });
    expect(verifyStripeWebhook(paired, signatureHeader(paired, 'whsec_old'), SECRETS, 300).ok).toBe(true);
  });

  it('rejects everything when no secret is configured', () => {
    expect(verifyStripeWebhook(payload, signatureHeader(payload, 'whsec_old'), [], 300)).toMatchObject({
      ok: false,
      code: 'invalid_signature',
    });
  });
});
