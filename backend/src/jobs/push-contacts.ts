import { randomUUID, createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../adapters/store/db';
import { loadSettings } from '../adapters/store/settings-store';
import {
  addDeadLetter,
  claimDirty,
  deleteLink,
  linksOf,
  markPushed,
  markRetry,
  markSettled,
  renewClaims,
  saveLink,
  type DirtyCustomer,
} from '../adapters/store/push-store';
import { settleCustomerEvents } from '../adapters/store/event-outcomes';
import { pushReadiness, shouldPush } from '../adapters/store/push-readiness';
import { suppressedCustomers } from '../adapters/store/data-deletion';
import type { CrmGateway, GatewayLookup, WriteResult } from '../domain/sync/ports';
import { changedProperties, desiredProperties, failedPaymentTask } from '../domain/sync/contact-write';
import { propertyDefinitions } from '../domain/properties';
import type { SyncSettings } from '@stripe-hubspot-sync/contracts';
import type { IngestPressure } from '../ingest/pressure';

export interface PusherDeps {
  db: Db;
  logger: Logger;
  /** The CRM connection of an account in a mode (each mode has its own; a test event never reaches a live portal). */
  gatewayFor(account: string, livemode: boolean, opts?: { share?: number }): Promise<GatewayLookup>;
  batchSize?: number;
  /** While a burst is still being applied, how long partial batches may wait to fill (default 3 s). */
  maxHoldMs?: number;
  /**
   * How long a claimed customer stays with this pusher without news from it (default 120 s). The lease is
   * renewed while a pass runs, so a long pass keeps its customers and a crashed pusher's are free after this.
   */
  leaseSeconds?: number;
  /** How long a changed customer may wait for more changes before it is written. */
  settleMs?: number;
  pollMs?: number;
  /** Shortest time from the start of one partial pass to the next (default 500 ms); full batches go at once. */
  minPassIntervalMs?: number;
  /** While the webhook route is flooded, each pass first waits a bounded moment (acknowledgements first). */
  pressure?: IngestPressure;
}

export interface Pusher {
  /** Look for work now (after events were applied). */
  wake(): void;
  /** One pass: claim, write, record. Answers how many customers it handled. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Writes out-of-date customers to their HubSpot contacts in batches, in a loop, until stopped. */
export function startPusher(deps: PusherDeps, opts: { loop?: boolean } = {}): Pusher {
  const batchSize = deps.batchSize ?? 100;
  const pollMs = deps.pollMs ?? 250;
  const leaseSeconds = deps.leaseSeconds ?? 120;
  let running = opts.loop !== false;
  let wakeUp: (() => void) | null = null;
  let current: Promise<unknown> = Promise.resolve();

  const runOnce = async (): Promise<number> => {
    const token = randomUUID();
    const claimed = await claimDirty(deps.db, { limit: batchSize, leaseSeconds, settleMs: deps.settleMs ?? 200, token });
    if (claimed.length === 0) return 0;
    const renewal = setInterval(() => {
      renewClaims(deps.db, token, leaseSeconds).catch((err: unknown) => deps.logger.warn({ err }, 'could not renew push leases'));
    }, Math.max(100, (leaseSeconds * 1000) / 3));
    try {
      const groups = new Map<string, DirtyCustomer[]>();
      for (const c of claimed) {
        const id = `${c.key.account}|${c.key.livemode}|${c.priority}`;
        groups.set(id, [...(groups.get(id) ?? []), c]);
      }
      await Promise.all([...groups.values()].map((g) => pushGroup(deps, g, token)));
    } finally {
      clearInterval(renewal);
    }
    return claimed.length;
  };

  const policy = { batchSize, settleMs: deps.settleMs ?? 200, maxHoldMs: deps.maxHoldMs ?? 3000 };
  const minPassIntervalMs = deps.minPassIntervalMs ?? 500;
  const loop = async () => {
    while (running) {
      let handled = 0;
      const started = Date.now();
      try {
        if (deps.pressure?.busy()) await deps.pressure.yieldToAcknowledgements();
        if (!running) break;
        const run = shouldPush(await pushReadiness(deps.db), policy) ? runOnce() : Promise.resolve(0);
        current = run;
        handled = await run;
      } catch (err) {
        deps.logger.error({ err }, 'push pass failed');
      }
      if (!running || handled >= batchSize) continue;
      // After a partial pass, let changes gather for a moment: steady traffic becomes fuller batches and the
      // portal's budget is not spent on many one-contact writes. A wake (new changes) does not cut this short.
      const rest = handled > 0 ? Math.max(0, minPassIntervalMs - (Date.now() - started)) : pollMs;
      if (handled > 0) {
        await new Promise((r) => setTimeout(r, rest));
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, rest);
        wakeUp = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wakeUp = null;
    }
  };
  const looping = running ? loop() : Promise.resolve();

  return {
    wake: () => wakeUp?.(),
    runOnce,
    async stop() {
      running = false;
      wakeUp?.();
      await looping;
      await current.catch(() => undefined);
    },
  };
}

async function pushGroup(deps: PusherDeps, customers: DirtyCustomer[], token: string): Promise<void> {
  const { account, livemode } = customers[0].key;
  const { db, logger } = deps;
  try {
    const lookup = await deps.gatewayFor(account, livemode, { share: customers[0].priority === 'backfill' ? 0.5 : 1 });
    if ('none' in lookup) {
      await settle(db, customers, token, 'skipped', lookup.none);
      return;
    }
    const gw = lookup.gateway;
    const { settings } = await loadSettings(db, account, livemode);
    await ensureProvisioned(db, gw, settings);
    await writeContacts(deps, gw, settings, customers, token);
  } catch (err) {
    // Anything unexpected (HubSpot down past our retries, a token refresh failing): release the lease and retry
    // later; customers already settled in this pass are not touched (their claim token is gone).
    const message = err instanceof Error ? err.message : String(err);
    logger.warn({ err, account, livemode }, 'HubSpot write failed; will retry');
    for (const c of customers) await markRetry(db, c, token, message).catch(() => undefined);
  }
}

/** Customers nothing can be written for, with one reason, and their events: two statements in all. */
async function settle(db: Db, cs: DirtyCustomer[], token: string, state: 'skipped' | 'failed', reason: string) {
  await markSettled(db, cs, token, state, reason);
  await settleCustomerEvents(db, cs, state, reason);
}

/** Creates the "Stripe" group and the mapped properties once per portal and property set. */
async function ensureProvisioned(db: Db, gw: CrmGateway, settings: SyncSettings): Promise<void> {
  const definitions = propertyDefinitions(settings);
  const hash = createHash('sha256').update(JSON.stringify(definitions)).digest('hex').slice(0, 32);
  const { rows } = await db.query('SELECT 1 FROM portal_provisioning WHERE portal_id = $1 AND definitions_hash = $2', [
    gw.portalId,
    hash,
  ]);
  if (rows.length > 0) return;
  await gw.ensureProperties(definitions as never);
  await db.query('INSERT INTO portal_provisioning (portal_id, definitions_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
    gw.portalId,
    hash,
  ]);
}

/**
 * Identity, then writes: the stored link; else the contact holding the customer id in the unique property;
 * else the contact with the customer's email; else a new contact (when allowed). Lookups use batch reads
 * (consistent), never search (eventually consistent).
 */
async function writeContacts(
  deps: PusherDeps,
  gw: CrmGateway,
  settings: SyncSettings,
  claimedCustomers: DirtyCustomer[],
  token: string,
): Promise<void> {
  const { db } = deps;
  let customers = claimedCustomers;
  const { account, livemode } = customers[0].key;
  const idProperty = settings.fields.customerId.property;
  // A contact HubSpot deleted for privacy is never written again for that customer.
  const suppressed = await suppressedCustomers(db, account, livemode, customers.map((c) => c.key.customerId));
  await settle(
    db,
    customers.filter((x) => suppressed.has(x.key.customerId)),
    token,
    'skipped',
    'The contact was deleted in HubSpot for privacy; this customer is no longer synced',
  );
  customers = customers.filter((c) => !suppressed.has(c.key.customerId));
  if (customers.length === 0) return;
  const links = await linksOf(db, account, livemode, gw.portalId, customers.map((c) => c.key.customerId));

  const unlinked = customers.filter((c) => !links.has(c.key.customerId));
  if (unlinked.length > 0) {
    const byId = await gw.findByProperty(idProperty, unlinked.map((c) => c.key.customerId));
    for (const c of unlinked) {
      const contactId = byId.get(c.key.customerId);
      if (contactId) {
        links.set(c.key.customerId, contactId);
        await saveLink(db, c.key, gw.portalId, contactId, 'customer_id');
      }
    }
    const byEmailWanted = unlinked.filter((c) => !links.has(c.key.customerId) && c.status.email);
    if (byEmailWanted.length > 0) {
      const byEmail = await gw.findByEmail(byEmailWanted.map((c) => c.status.email!.toLowerCase()));
      for (const c of byEmailWanted) {
        const contactId = byEmail.get(c.status.email!.toLowerCase());
        if (contactId) {
          links.set(c.key.customerId, contactId);
          await saveLink(db, c.key, gw.portalId, contactId, 'email');
        }
      }
    }
  }

  const creates: DirtyCustomer[] = [];
  const updates: DirtyCustomer[] = [];
  const noEmail: DirtyCustomer[] = [];
  const noCreate: DirtyCustomer[] = [];
  for (const c of customers) {
    if (links.has(c.key.customerId)) updates.push(c);
    else if (!c.status.email) noEmail.push(c);
    else if (!settings.options.createContacts) noCreate.push(c);
    else creates.push(c);
  }
  await settle(db, noEmail, token, 'skipped', 'The Stripe customer has no email and no linked HubSpot contact');
  await settle(db, noCreate, token, 'skipped', 'No HubSpot contact matches and creating contacts is turned off');

  const desired = new Map(customers.map((c) => [c.key.customerId, desiredProperties(c.status, settings)]));
  if (creates.length > 0) {
    const results = await gw.create(creates.map((c) => ({ key: c.key.customerId, properties: desired.get(c.key.customerId)! })));
    for (const c of creates) {
      const r = results.get(c.key.customerId);
      if (r?.ok) {
        links.set(c.key.customerId, r.contactId);
        await saveLink(db, c.key, gw.portalId, r.contactId, 'created');
        await done(deps, gw, settings, c, token, r.contactId, desired.get(c.key.customerId)!);
      } else if (r && !r.ok && r.existingContactId) {
        // Someone created the contact meanwhile: link to it and update it like any linked contact.
        links.set(c.key.customerId, r.existingContactId);
        await saveLink(db, c.key, gw.portalId, r.existingContactId, 'conflict');
        updates.push(c);
      } else await failed(deps, gw, c, token, r);
    }
  }

  const toWrite: { c: DirtyCustomer; contactId: string; properties: Record<string, string> }[] = [];
  for (const c of updates) {
    const contactId = links.get(c.key.customerId)!;
    const properties = changedProperties(desired.get(c.key.customerId)!, c.syncedProperties);
    if (Object.keys(properties).length === 0) await done(deps, gw, settings, c, token, contactId, desired.get(c.key.customerId)!);
    else toWrite.push({ c, contactId, properties });
  }
  if (toWrite.length === 0) return;
  const results = await gw.update(toWrite.map((w) => ({ key: w.c.key.customerId, contactId: w.contactId, properties: w.properties })));
  for (const w of toWrite) {
    const r = results.get(w.c.key.customerId);
    if (r?.ok) await done(deps, gw, settings, w.c, token, w.contactId, desired.get(w.c.key.customerId)!);
    else if (r && !r.ok && r.category === 'OBJECT_NOT_FOUND') {
      // The linked contact was deleted in HubSpot: forget the link; the next pass matches or creates again.
      await deleteLink(db, w.c.key);
      await markRetry(db, { ...w.c, attempts: 0 }, token, 'The linked HubSpot contact no longer exists; matching again');
    } else await failed(deps, gw, w.c, token, r);
  }
}

async function done(
  deps: PusherDeps,
  gw: CrmGateway,
  settings: SyncSettings,
  c: DirtyCustomer,
  token: string,
  contactId: string,
  properties: Record<string, string>,
): Promise<void> {
  const task = failedPaymentTask(c.status, c.syncedStatus, settings);
  if (task) {
    try {
      await gw.createTask(contactId, { ...task, dueAt: new Date(Date.now() + 86_400_000) });
    } catch (err) {
      deps.logger.warn({ err, customerId: c.key.customerId }, 'could not create the failed-payment task');
    }
  }
  await markPushed(deps.db, c, token, properties);
  await settleCustomerEvents(deps.db, [c], 'synced', null);
}

async function failed(deps: PusherDeps, gw: CrmGateway, c: DirtyCustomer, token: string, r: WriteResult | undefined) {
  const message = r && !r.ok ? r.message : 'HubSpot returned no result for this contact';
  if (r && !r.ok && !r.permanent) {
    await markRetry(deps.db, c, token, message);
    return;
  }
  const category = r && !r.ok ? r.category : null;
  await addDeadLetter(deps.db, c, gw.portalId, message, category);
  await settle(deps.db, [c], token, 'failed', message);
  deps.logger.warn({ customerId: c.key.customerId, portalId: gw.portalId, category }, 'HubSpot refused the contact write');
}
