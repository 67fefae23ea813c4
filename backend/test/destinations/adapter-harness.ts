import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/adapters/store/db';
import { createDbRatePacer } from '../../src/adapters/destinations/rate-pacer';
import { DestinationError, type DestinationEvent, type ProfileWrite, type RatePacer } from '../../src/domain/destinations/port';
import { migratedDb, type DbKind, type TestDatabase } from '../helpers/db';

/**
 * What the destination adapter tests share: a migrated database per `describe`, the real database-backed pacer
 * under a fresh destination prefix per test (as the engine gives each destination its own buckets), the penalty a
 * bucket holds, and builders of the port's inputs.
 */
export interface AdapterTestBed {
  db(): Db;
  /** The shared pacer, under this test's prefix. */
  pacer(): RatePacer;
  /** When the penalty on `bucket` (this test's prefix) ends, epoch ms; null when none was set. */
  penaltyUntil(bucket: string): Promise<number | null>;
  /** How long the penalty on `bucket` still runs, by the database's clock (ms); null when none was set. */
  penaltyLeft(bucket: string): Promise<number | null>;
}

export function useAdapterTestBed(kind: DbKind): AdapterTestBed {
  let opened: { db: Db; target: TestDatabase } | undefined;
  let prefix = '';
  beforeAll(async () => {
    opened = await migratedDb(kind);
  });
  afterAll(async () => {
    await opened?.db.close();
    await opened?.target.drop();
  });
  beforeEach(() => {
    prefix = `test-dst:${randomBytes(4).toString('hex')}:`;
  });
  const db = () => {
    if (!opened) throw new Error('the test database is opened in beforeAll');
    return opened.db;
  };
  return {
    db,
    pacer() {
      const shared = createDbRatePacer(db());
      return {
        acquire: (bucket, limits) => shared.acquire(prefix + bucket, limits),
        penalize: (bucket, waitMs) => shared.penalize(prefix + bucket, waitMs),
      };
    },
    async penaltyUntil(bucket) {
      const r = await db().query<{ until_ms: string }>('SELECT until_ms FROM destination_rate_penalties WHERE bucket = $1', [prefix + bucket]);
      return r.rows[0] ? Number(r.rows[0].until_ms) : null;
    },
    async penaltyLeft(bucket) {
      const r = await db().query<{ left: string }>(
        `SELECT until_ms - (extract(epoch from clock_timestamp()) * 1000)::bigint AS left FROM destination_rate_penalties WHERE bucket = $1`,
        [prefix + bucket],
      );
      return r.rows[0] ? Number(r.rows[0].left) : null;
    },
  };
}

/** The DestinationError `p` rejects with (fails the test when it resolves or throws something else). */
export async function errorOf(p: Promise<unknown>): Promise<DestinationError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DestinationError);
    return err as DestinationError;
  }
  throw new Error('expected a DestinationError');
}

export const profile = (over: Partial<ProfileWrite> & { customerId: string }): ProfileWrite => ({
  email: `${over.customerId}@example.com`,
  previousEmail: null,
  firstName: 'Ada',
  lastName: 'Lovelace',
  externalId: null,
  properties: {},
  ...over,
});

/** A payment event of the port (`properties` default: an invoice id). */
export const destinationEvent = (over: Partial<DestinationEvent> & { key: string; customerId: string }): DestinationEvent => ({
  email: `${over.customerId}@example.com`,
  name: 'Successfully Paid',
  time: 1_760_000_000,
  value: 49.99,
  currency: 'USD',
  properties: { invoiceId: 'in_123' },
  ...over,
});
