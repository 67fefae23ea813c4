import express from 'express';
import type { AddressInfo } from 'node:net';
import { Health, healthzRouter } from '../../src/http/healthz';
import { EVENTS_DEAD_LETTER_QUEUE, EVENTS_QUEUE } from '../../src/queue/job-queue';
import { createDefaultProcessor } from '../../src/jobs/default-processor';
import type { EventProcessor, StoredEvent } from '../../src/jobs/types';
import type { Queryable } from '../../src/adapters/store/db';
import { dbKinds } from '../helpers/db';
import { postWebhook, startTestServer, TEST_WEBHOOK_SECRETS, waitFor, type TestServer } from '../helpers/server';
import { randomId, signatureHeader, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

function customerEvent(type = 'customer.created', opts: { id?: string; account?: string } = {}) {
  return stripeEvent(type, stripeObject('customer', { id: randomId('cus'), email: 'buyer@example.com' }), opts);
}

async function eventRow(db: Queryable, id: string) {
  const { rows } = await db.query<{ status: string; status_reason: string | null; type: string; account_id: string | null }>(
    'SELECT status, status_reason, type, account_id FROM stripe_events WHERE id = $1',
    [id],
  );
  return rows[0];
}

/** Jobs of an event in any state, archived or not. */
async function jobsOf(db: Queryable, eventId: string, queue = EVENTS_QUEUE): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM pgboss.job WHERE name = $1 AND data->>'eventId' = $2)
          + (SELECT count(*) FROM pgboss.archive WHERE name = $1 AND data->>'eventId' = $2) AS n`,
    [queue, eventId],
  );
  return Number(rows[0].n);
}

async function eventCount(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM stripe_events');
  return Number(rows[0].n);
}

describe.each(dbKinds())('POST /webhooks/stripe on %s', (kind) => {
  let server: TestServer;
  const seen: StoredEvent[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      kind,
      env: { QUEUE_RETRY_LIMIT: '1' },
      // Records what it is given; fails the events whose id says so; otherwise the default outcome.
      processor: (ctx): EventProcessor => {
        const base = createDefaultProcessor(ctx.db);
        return {
          async process(events) {
            seen.push(...events);
            if (events.some((e) => e.id.startsWith('evt_fail'))) throw new Error('HubSpot is down');
            await base.process(events);
          },
        };
      },
    });
  });
  afterAll(() => server?.stop());

  it('stores a verified event, answers 200, and the processor gets it', async () => {
    const event = customerEvent('customer.created', { account: 'acct_1' });
    const res = await postWebhook(server.url, event);
    expect(res).toEqual({ status: 200, body: { received: true, duplicate: false } });
    // Acknowledged means committed: the row is there the moment the answer arrives.
    expect(await eventRow(server.db, event.id as string)).toMatchObject({ type: 'customer.created', account_id: 'acct_1' });
    expect(await jobsOf(server.db, event.id as string)).toBe(1);

    await waitFor(async () => (await eventRow(server.db, event.id as string)).status === 'processed', { what: 'processed' });
    const given = seen.find((e) => e.id === event.id);
    expect(given).toMatchObject({ id: event.id, type: 'customer.created', accountId: 'acct_1', livemode: false, created: event.created });
    expect(given?.payload).toEqual(event);
    expect(Date.parse(given?.receivedAt ?? '')).not.toBeNaN();
  });

  it('stores an event carrying a NUL or a lone surrogate (jsonb refuses them) with U+FFFD in their place', async () => {
    const event = stripeEvent(
      'customer.updated',
      stripeObject('customer', { id: randomId('cus'), name: 'Ada\u0000Lovelace', metadata: { note: 'half \ud83d pair', ok: '😀' } }),
    );
    const res = await postWebhook(server.url, event);
    expect(res).toEqual({ status: 200, body: { received: true, duplicate: false } });
    await waitFor(async () => (await eventRow(server.db, event.id as string))?.status === 'processed', { what: 'processed' });
    const given = seen.find((e) => e.id === event.id)?.payload as unknown as { data: { object: Record<string, unknown> } };
    expect(given.data.object.name).toBe('Ada\ufffdLovelace');
    expect(given.data.object.metadata).toEqual({ note: 'half \ufffd pair', ok: '😀' });
  });

  it('accepts the second secret of a roll list', async () => {
    const event = customerEvent();
    const res = await postWebhook(server.url, event, { secret: TEST_WEBHOOK_SECRETS[1] });
    expect(res.status).toBe(200);
    expect(await eventRow(server.db, event.id as string)).toBeDefined();
  });

  it('refuses missing, wrong, stale and tampered signatures, malformed JSON and oversized bodies, storing nothing', async () => {
    const before = await eventCount(server.db);
    const event = customerEvent();
    const payload = JSON.stringify(event);
    const broken = payload.slice(0, -5);
    const cases: [string, Promise<{ status: number; body: unknown }>, number, string][] = [
      ['missing', postWebhook(server.url, event, { header: null }), 400, 'missing_signature'],
      ['wrong secret', postWebhook(server.url, event, { secret: 'whsec_someone_else' }), 400, 'invalid_signature'],
      ['stale', postWebhook(server.url, event, { timestamp: Math.floor(Date.now() / 1000) - 301 }), 400, 'stale_signature'],
      [
        'tampered',
        postWebhook(server.url, payload.replace('buyer@example.com', 'thief@example.com'), {
          header: signatureHeader(payload, TEST_WEBHOOK_SECRETS[0]),
        }),
        400,
        'invalid_signature',
      ],
      ['malformed', postWebhook(server.url, broken), 400, 'malformed_json'],
      ['oversized', postWebhook(server.url, { ...event, padding: 'x'.repeat(1024 * 1024) }), 413, 'payload_too_large'],
    ];
    for (const [what, response, status, code] of cases) {
      const res = await response;
      expect({ what, status: res.status, code: (res.body as { error: { code: string } }).error.code }).toEqual({ what, status, code });
      expect(typeof (res.body as { error: { message: string } }).error.message).toBe('string');
    }
    expect(await eventCount(server.db)).toBe(before);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const code of ['missing_signature', 'invalid_signature', 'stale_signature', 'malformed_json', 'payload_too_large']) {
      expect(metrics).toMatch(new RegExp(`stripe_webhooks_rejected_total\\{reason="${code}"\\} [1-9]`));
    }
  });

  it('answers a redelivery 200 duplicate and enqueues nothing more', async () => {
    const event = customerEvent();
    expect((await postWebhook(server.url, event)).body).toEqual({ received: true, duplicate: false });
    expect((await postWebhook(server.url, event)).body).toEqual({ received: true, duplicate: true });
    expect(await jobsOf(server.db, event.id as string)).toBe(1);
  });

  it('stores 5 concurrent copies once, with one job', async () => {
    const event = customerEvent('invoice.paid');
    const results = await Promise.all(Array.from({ length: 5 }, () => postWebhook(server.url, event)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const duplicates = results.map((r) => (r.body as { duplicate: boolean }).duplicate);
    expect(duplicates.filter((d) => !d)).toHaveLength(1);
    const { rows } = await server.db.query<{ n: string }>('SELECT count(*) AS n FROM stripe_events WHERE id = $1', [event.id]);
    expect(Number(rows[0].n)).toBe(1);
    expect(await jobsOf(server.db, event.id as string)).toBe(1);
  });

  it('stores a type we do not handle as ignored, answers 200, enqueues nothing', async () => {
    const event = stripeEvent('product.created', stripeObject('product', { id: randomId('prod') }));
    expect(await postWebhook(server.url, event)).toEqual({ status: 200, body: { received: true, duplicate: false } });
    expect(await eventRow(server.db, event.id as string)).toMatchObject({ status: 'ignored', status_reason: 'unhandled event type' });
    expect(await jobsOf(server.db, event.id as string)).toBe(0);
  });

  it('enqueues the install lifecycle events', async () => {
    const event = stripeEvent('account.application.authorized', { id: 'ca_app', object: 'application', name: 'Sync' }, { account: 'acct_new' });
    expect((await postWebhook(server.url, event)).status).toBe(200);
    expect(await jobsOf(server.db, event.id as string)).toBe(1);
    await waitFor(async () => (await eventRow(server.db, event.id as string)).status === 'processed', { what: 'processed' });
  });

  it('retries a failing batch with backoff, then marks the event failed and dead-letters its job', async () => {
    const event = customerEvent('charge.succeeded', { id: randomId('evt_fail') });
    expect((await postWebhook(server.url, event)).status).toBe(200);
    await waitFor(async () => (await eventRow(server.db, event.id as string)).status === 'failed', {
      timeoutMs: 30_000,
      what: 'the event to fail',
    });
    expect(seen.filter((e) => e.id === event.id)).toHaveLength(2); // first attempt + QUEUE_RETRY_LIMIT=1 retry
    expect((await eventRow(server.db, event.id as string)).status_reason).toBe('Could not be processed (2 attempts): HubSpot is down');
    await waitFor(async () => (await jobsOf(server.db, event.id as string, EVENTS_DEAD_LETTER_QUEUE)) === 1, {
      what: 'the dead-letter job',
    });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/jobs_total\{outcome="retried"\} [1-9]/);
    expect(metrics).toMatch(/jobs_total\{outcome="dead_lettered"\} [1-9]/);
  });

  it('reports health and metrics', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/stripe_events_received_total\{type="customer.created"\} [1-9]/);
    expect(text).toMatch(/stripe_events_duplicate_total [1-9]/);
    expect(text).toMatch(/jobs_total\{outcome="completed"\} [1-9]/);
    expect(text).toMatch(/^queue_depth \d+$/m);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('answers 503 and acknowledges nothing when the database write fails', async () => {
    await server.db.query('ALTER TABLE stripe_events RENAME TO stripe_events_away');
    const event = customerEvent();
    try {
      const res = await postWebhook(server.url, event);
      expect(res).toMatchObject({ status: 503, body: { error: { code: 'service_unavailable' } } });
    } finally {
      await server.db.query('ALTER TABLE stripe_events_away RENAME TO stripe_events');
    }
    expect(await eventRow(server.db, event.id as string)).toBeUndefined();
    // Stripe's retry then succeeds.
    expect((await postWebhook(server.url, event)).body).toEqual({ received: true, duplicate: false });
  });

  it('healthz answers 503 while starting and while stopping', async () => {
    const health = new Health();
    const app = express().use(healthzRouter(health, server.db));
    const http = app.listen(0, '127.0.0.1');
    await new Promise((r) => http.once('listening', r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/healthz`;
    try {
      const starting = await fetch(url);
      expect(starting.status).toBe(503);
      expect(await starting.json()).toMatchObject({ error: { code: 'service_unavailable', message: 'Starting.' } });
      health.markReady();
      expect((await fetch(url)).status).toBe(200);
      health.markStopping();
      const stopping = await fetch(url);
      expect(stopping.status).toBe(503);
      expect(await stopping.json()).toMatchObject({ error: { message: 'Shutting down.' } });
    } finally {
      http.close();
    }
  });

  it('answers 404 in the error shape for unknown routes', async () => {
    const res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('a server without a webhook secret', () => {
  it('starts, and the webhook route answers 503 not_configured', async () => {
    // PostgreSQL when available: a second embedded database would only make the suite slower.
    const kind = dbKinds().includes('postgres') ? 'postgres' : 'pglite';
    const server = await startTestServer({ kind, config: { stripe: { webhookSecrets: [] } } });
    try {
      const res = await postWebhook(server.url, customerEvent());
      expect(res).toMatchObject({ status: 503, body: { error: { code: 'not_configured' } } });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
    // Once closed, nothing answers.
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
