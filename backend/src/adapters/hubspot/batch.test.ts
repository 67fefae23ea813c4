import { chunk100, runBatch, toItems, type RawBatchAnswer, type BatchItem } from './batch';
import { ConnectionHubSpotError, PermanentHubSpotError } from './errors';

/** Chunking and answer matching, with HubSpot's side played by plain functions. */

const ok = (item: BatchItem<string>, id = `id-${item.index}`) => ({ id, keys: [item.traceId] });

describe('chunk100', () => {
  it('cuts at 100 inputs and never puts one identity twice in a chunk, keeping order per identity', () => {
    const inputs = [...Array.from({ length: 150 }, (_, i) => `c${i}`), 'c0', 'c0', 'C1'];
    const chunks = chunk100(toItems(inputs, (v) => [v]));
    // A repeat joins the first chunk after the last one holding its identity, if it has room.
    expect(chunks.map((c) => c.length)).toEqual([100, 52, 1]);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(100);
      const ids = c.flatMap((i) => i.keys.slice(1));
      expect(new Set(ids).size).toBe(ids.length);
    }
    // The three writes of c0 land in three chunks, in input order.
    const c0 = chunks.map((c) => c.find((i) => i.input === 'c0')?.index).filter((x) => x !== undefined);
    expect(c0).toEqual([0, 150, 151]);
    // Identities compare case-insensitively ("C1" and "c1" are one email).
    const c1 = chunks.findIndex((c) => c.some((i) => i.input === 'c1'));
    const C1 = chunks.findIndex((c) => c.some((i) => i.input === 'C1'));
    expect(C1).toBeGreaterThan(c1);
  });
});

describe('runBatch', () => {
  it('matches results by trace id whatever their order', async () => {
    const items = toItems(['a', 'b', 'c'], () => []);
    const results = await runBatch(items, async (chunk) => ({ results: [...chunk].reverse().map((i) => ok(i)), errors: [] }));
    expect(results).toEqual([
      { ok: true, id: 'id-0' },
      { ok: true, id: 'id-1' },
      { ok: true, id: 'id-2' },
    ]);
  });

  it('pairs anonymous results by position only when the counts leave no doubt', async () => {
    const items = toItems(['a', 'b'], () => []);
    const full = await runBatch(items, async () => ({ results: [{ id: '1', keys: [] }, { id: '2', keys: [] }], errors: [] }));
    expect(full.map((r) => r.ok && r.id)).toEqual(['1', '2']);
    const short = await runBatch(items, async () => ({ results: [{ id: '1', keys: [] }], errors: [] }));
    expect(short).toEqual([
      { ok: false, permanent: false, category: 'NO_RESULT', message: 'HubSpot answered nothing for this input' },
      { ok: false, permanent: false, category: 'NO_RESULT', message: 'HubSpot answered nothing for this input' },
    ]);
  });

  it('gives 207 errors to the inputs their context names; 5xx-like entries stay retryable', async () => {
    const items = toItems(['x@example.com', 'y@example.com', 'z@example.com'], (v) => [v]);
    const answer: RawBatchAnswer = {
      results: [{ id: '10', keys: ['x@example.com'] }],
      errors: [
        { status: 'error', category: 'OBJECT_NOT_FOUND', message: 'not found', context: { ids: ['Y@example.com'] } },
        { status: '503', category: 'SERVICE_UNAVAILABLE', message: 'try later', context: { ids: ['z@example.com'] } },
      ],
    };
    const results = await runBatch(items, async () => answer);
    expect(results[0]).toEqual({ ok: true, id: '10' });
    expect(results[1]).toEqual({ ok: false, permanent: true, category: 'OBJECT_NOT_FOUND', message: 'not found' });
    expect(results[2]).toMatchObject({ ok: false, permanent: false, status: 503 });
  });

  it('sets aside the inputs a whole-batch error names and sends the rest once more', async () => {
    const items = toItems(['a', 'b', 'c', 'd'], (v) => [v]);
    const sent: string[][] = [];
    const results = await runBatch(items, async (chunk) => {
      sent.push(chunk.map((i) => i.input));
      if (chunk.some((i) => i.input === 'c')) {
        throw new PermanentHubSpotError({
          status: 400,
          category: 'VALIDATION_ERROR',
          message: 'bad input',
          operation: 'test',
          body: { errors: [{ message: 'invalid', in: 'inputs[2].properties.x' }] },
        });
      }
      return { results: chunk.map((i) => ok(i)), errors: [] };
    });
    expect(sent).toEqual([['a', 'b', 'c', 'd'], ['a', 'b', 'd']]);
    expect(results[2]).toMatchObject({ ok: false, permanent: true, category: 'VALIDATION_ERROR', status: 400 });
    expect(results.filter((r) => r.ok)).toHaveLength(3);
  });

  it('throws a refused connection (401/403) once instead of failing every record', async () => {
    for (const refusal of [
      new PermanentHubSpotError({ status: 403, category: 'MISSING_SCOPES', message: 'scope missing', operation: 'test' }),
      new ConnectionHubSpotError({ status: 401, category: 'INVALID_AUTHENTICATION', message: 'no', operation: 'test', severity: 'paused' }),
    ]) {
      const items = toItems(['a', 'b', 'c'], () => []);
      let calls = 0;
      const err = await runBatch(items, async () => {
        calls++;
        throw refusal;
      }).catch((e: unknown) => e);
      expect(calls).toBe(1);
      expect(err).toBeInstanceOf(ConnectionHubSpotError);
      expect(err).toMatchObject({ status: refusal instanceof ConnectionHubSpotError ? 401 : 403, category: refusal.category, severity: 'paused' });
    }
  });

  it('does not split a refusal naming a property that does not exist: every input gets PROPERTY_DOESNT_EXIST', async () => {
    const items = toItems(['a', 'b', 'c', 'd'], (v) => [v]);
    let calls = 0;
    const message = `Property values were not valid: ${JSON.stringify([{ isValid: false, message: 'Property "stripe_mrr" does not exist', error: 'PROPERTY_DOESNT_EXIST', name: 'stripe_mrr' }])}`;
    const results = await runBatch(items, async () => {
      calls++;
      throw new PermanentHubSpotError({
        status: 400,
        category: 'VALIDATION_ERROR',
        message,
        operation: 'test',
        body: { errors: [{ message: 'Property "stripe_mrr" does not exist', code: 'PROPERTY_DOESNT_EXIST', context: { propertyName: ['stripe_mrr'] } }] },
      });
    });
    expect(calls).toBe(1);
    expect(results.every((r) => !r.ok && r.category === 'PROPERTY_DOESNT_EXIST')).toBe(true);
  });
});
