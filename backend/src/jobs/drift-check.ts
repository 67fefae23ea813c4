import type { Db } from '../adapters/store/db';
import { markBackfillPriority } from '../adapters/store/backfill-store';
import { forgetContact } from '../adapters/store/data-deletion';
import { markForPush } from '../adapters/store/sync-store';
import type { Logger } from '../logger';
import type { BackfillMetrics } from './backfill/metrics';

/**
 * Drift check: a random sample of synced, linked customers is read back from HubSpot (one batch read of the
 * properties we wrote) and compared with what we last wrote (`customers.synced_properties`). A contact whose
 * values differ (edited by hand, overwritten by another integration, a write lost) is queued for a full
 * rewrite at backfill priority; a linked contact that no longer exists is forgotten like a HubSpot deletion.
 * A repair is queued only while the customer is still synced at the version that was sampled: the read can take
 * a while (it waits for the portal's budget), and a write of ours that landed meanwhile is not drift.
 * `lifecyclestage` is not compared: we set it once and never push it back.
 */

/** Reads contacts by id; ids that do not exist are absent from the answer. */
export interface ContactReader {
  readContacts(contactIds: string[], properties: string[]): Promise<Map<string, Record<string, string | null>>>;
}

export interface DriftCheckDeps {
  db: Db;
  logger: Logger;
  /** The portal and a reader for that account's connection in that mode, or null when none is connected. */
  readerFor(account: string, livemode: boolean): Promise<{ portalId: number; reader: ContactReader } | null>;
  /** Contacts compared per account and mode per run (default 50). */
  sampleSize?: number;
  /** Called after repairs were queued (wake the pusher). */
  onRepairs?(): void;
  metrics?: Pick<BackfillMetrics, 'driftChecked' | 'driftRepairs'>;
}

export interface DriftResult {
  checked: number;
  repaired: number;
  missing: number;
  skipped?: string;
}

const NOT_COMPARED = new Set(['lifecyclestage']);

export async function driftCheck(deps: DriftCheckDeps, target: { account: string; livemode: boolean }): Promise<DriftResult> {
  const { db } = deps;
  const { account, livemode } = target;
  const conn = await deps.readerFor(account, livemode);
  if (!conn) return { checked: 0, repaired: 0, missing: 0, skipped: 'no HubSpot portal connected' };
  const { rows } = await db.query<{ customer_id: string; contact_id: string; synced_properties: Record<string, string>; synced_version: string }>(
    `SELECT c.customer_id, l.contact_id, c.synced_properties, c.synced_version
       FROM customers c JOIN contact_links l
         ON l.account_key = c.account_key AND l.livemode = c.livemode AND l.customer_id = c.customer_id
      WHERE c.account_key = $1 AND c.livemode = $2 AND l.portal_id = $3
        AND c.sync_state = 'synced' AND c.version = c.synced_version AND c.synced_properties IS NOT NULL
      ORDER BY random() LIMIT $4`,
    [account, livemode, conn.portalId, deps.sampleSize ?? 50],
  );
  if (rows.length === 0) return { checked: 0, repaired: 0, missing: 0 };
  const properties = [...new Set(rows.flatMap((r) => Object.keys(r.synced_properties)))].filter((p) => !NOT_COMPARED.has(p)).sort();
  const contacts = await conn.reader.readContacts([...new Set(rows.map((r) => r.contact_id))], properties);
  deps.metrics?.driftChecked.inc(rows.length);
  const repairs: string[] = [];
  let missing = 0;
  for (const r of rows) {
    const actual = contacts.get(r.contact_id);
    if (!actual) {
      await forgetContact(db, conn.portalId, r.contact_id, 'deletion');
      deps.metrics?.driftRepairs.inc({ reason: 'missing' });
      missing++;
      continue;
    }
    const differs = Object.entries(r.synced_properties).some(([name, written]) => !NOT_COMPARED.has(name) && !sameValue(written, actual[name]));
    if (!differs) continue;
    const key = { account, livemode, customerId: r.customer_id };
    if (await markForPush(db, key, { ifSyncedAt: Number(r.synced_version) })) {
      repairs.push(r.customer_id);
      deps.metrics?.driftRepairs.inc({ reason: 'differs' });
    }
  }
  await markBackfillPriority(db, account, livemode, repairs);
  if (repairs.length > 0) deps.onRepairs?.();
  if (repairs.length + missing > 0) {
    deps.logger.info({ account, livemode, portalId: conn.portalId, checked: rows.length, repaired: repairs.length, missing }, 'HubSpot drift repaired');
  }
  return { checked: rows.length, repaired: repairs.length, missing };
}

const DIGITS = /^-?\d+(\.\d+)?$/;

/**
 * Whether HubSpot's value is the one we wrote, allowing for how HubSpot formats values on reads: empty and
 * missing are the same, numbers compare as numbers ("12.50" = "12.5"), a date we wrote as epoch milliseconds
 * equals HubSpot's "2024-05-01" or ISO text of that instant, and text compares case-insensitively (emails).
 */
export function sameValue(written: string | null | undefined, actual: string | null | undefined): boolean {
  const a = (written ?? '').trim();
  const b = (actual ?? '').trim();
  if (a === b) return true;
  if (a === '' || b === '') return false;
  if (DIGITS.test(a) && DIGITS.test(b)) return Number(a) === Number(b);
  if (/^\d{11,14}$/.test(a) && !DIGITS.test(b) && /^\d{4}-\d{2}-\d{2}/.test(b)) return Number(a) === Date.parse(b);
  if (/^\d{11,14}$/.test(b) && !DIGITS.test(a) && /^\d{4}-\d{2}-\d{2}/.test(a)) return Number(b) === Date.parse(a);
  return a.toLowerCase() === b.toLowerCase();
}
