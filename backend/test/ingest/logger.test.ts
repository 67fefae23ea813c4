import { Writable } from 'node:stream';
import { createLogger, eventFields } from '../../src/logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination: stream }) };
}

describe('logger', () => {
  it('writes JSON lines with event fields', () => {
    const { lines, logger } = capture();
    logger.info(eventFields({ id: 'evt_1', type: 'invoice.paid', accountId: 'acct_1' }), 'stripe event stored');
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'stripe event stored', eventId: 'evt_1', eventType: 'invoice.paid', account: 'acct_1' });
    expect(typeof lines[0].time).toBe('string');
  });

  it('redacts authorization and signature headers, tokens and secrets', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer pat-secret-1', 'stripe-signature': 't=1,v1=abc', 'content-type': 'application/json' } },
        hubspot: { accessToken: 'pat-secret-2', refresh_token: 'rt-secret-3' },
        secret: 'whsec_secret_4',
        clientSecret: 'secret-5',
        apiKey: 'sk_test_secret6',
      },
      'request',
    );
    const text = JSON.stringify(lines[0]);
    for (const s of ['pat-secret-1', 't=1,v1=abc', 'pat-secret-2', 'rt-secret-3', 'whsec_secret_4', 'secret-5', 'sk_test_secret6']) {
      expect(text).not.toContain(s);
    }
    expect(text).toContain('application/json');
  });
});
