import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../adapters/store/db';
import { loadSettings } from '../adapters/store/settings-store';
import { addDeadLetter, claimDirty, markObjectsRetry, markPushedMany, markRetry, markSettled, renewClaims, type DirtyCustomer } from '../adapters/store/push-store';
import { holdForConnection, takePropertyResends, type RetryBackoff } from '../adapters/store/push-store';
import { connectionFailure, recordConnectionFailure } from '../adapters/store/connection-health';
import { RetryableHubSpotError, asConnectionFailure, isPortalWideCategory } from '../adapters/hubspot/errors';
import { hubspotErrorClass, hubspotRecordClass } from '../adapters/hubspot/destination';
import { guardProperties, writtenProperties } from './property-guard';
import { settleCustomerEvents } from '../adapters/store/event-outcomes';
import { pushReadiness, shouldPush } from '../adapters/store/push-readiness';
import { suppressedCustomers } from '../adapters/store/data-deletion';
import type { CrmGateway, CrmObjectStage, GatewayLookup, ObjectOutcome, WriteResult } from '../domain/sync/ports';
import { withTaskOutcome, writeFailedPaymentTasks } from './failed-payment-tasks';
import { normalEmail } from '../domain/sync/identity';
import { createContacts, resolveLinks, type PushContext } from './push-identity';
import { writeLinkedContacts } from './push-groups';
import { propertyDefinitions } from '../domain/properties';
import { productOptionsGateway } from './product-options';
import type { SyncSettings } from '@stripe-hubspot-sync/contracts';
import type { IngestPressure } from '../ingest/pressure';

export interface PusherDeps {
  db: Db;
  logger: Logger;
  /** The CRM connection of an account in a mode (each mode has its own; a test event never reaches a live portal). */
  gatewayFor(account: string, livemode: boolean, opts?: { share?: number }): Promise<GatewayLookup>;
  batchSize?: number;
  /** While a merchant's burst is still being applied, how long its changes may wait for it to end (default 5 s). */
  maxHoldMs?: number;
  /**
   * How long a claimed customer stays with this pusher without news from it (default 120 s). The lease is
   * renewed while a pass runs, so a long pass keeps its customers and a crashed pusher's are free after this.
   */
  leaseSeconds?: number;
  /** How long a changed customer may wait for more changes before it is written. */
  settleMs?: number;
  pollMs?: number;
  /** Shortest time from the start of one partial pass to the next (default 1 s); full batches go at once. */
  minPassIntervalMs?: number;
  /** While the webhook route is flooded, each pass first waits a bounded moment (acknowledgements first). */
  pressure?: IngestPressure;
  /** Backoff of a customer's retries (default 1 s doubling to 5 minutes). */
  retry?: RetryBackoff;
  /**
   * How long customers of a connection HubSpot refuses (401/403, a refused refresh) wait before they are looked
   * at again (default 60 s); the connection check that succeeds wakes them sooner.
   */
  connectionCheckMs?: number;
  /** How often our properties are checked in each portal (default 5 minutes); PROPERTY_DOESNT_EXIST checks at once. */
  propertyRecheckMs?: number;
  /** Groups written at once by this process (default 8). */
  maxGroups?: number;
  /**
   * Groups of one merchant written at once by this process (default 2): a merchant with many changed customers
   * has its next batch under way while the last one waits for HubSpot, and never takes every slot.
   */
  maxGroupsPerMerchant?: number;
}

export interface Pusher {
  /** Look for work now (after events were applied). */
  wake(): void;
  /** One pass: claim, write, record. Answers how many customers it handled. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Writes out-of-date customers to their HubSpot contacts in batches, in a loop, until stopped.
 *
 * Merchants do not wait for each other: each pass's customers are grouped by (account, mode), and each group is
 * written on its own, under its own lease renewal; the loop does not wait for a group to finish before the next
 * pass. A merchant with `maxGroupsPerMerchant` groups running is left out of the next passes until one finishes,
 * so a portal answering slowly or with 429s holds back only its own merchants' writes, and a merchant with a flood of
 * changes never takes every slot. At most `maxGroups` groups run at once in this process. (A customer is in one
 * group at a time: its lease.)
 */
export function startPusher(deps: PusherDeps, opts: { loop?: boolean } = {}): Pusher {
  const batchSize = deps.batchSize ?? 100;
  const pollMs = deps.pollMs ?? 250;
  const leaseSeconds = deps.leaseSeconds ?? 120;
  const maxGroups = Math.max(1, deps.maxGroups ?? 8);
  let running = opts.loop !== false;
  let wakeUp: (() => void) | null = null;
  /** Groups being written (each a merchant's batch), and how many per merchant (`account|livemode`). */
  const inFlight = new Set<Promise<void>>();
  const perMerchant = new Map<string, { account: string; livemode: boolean; groups: number }>();
  const maxPerMerchant = Math.max(1, deps.maxGroupsPerMerchant ?? 2);
  /** Merchants at their limit of groups: not claimed until one of theirs finishes. */
  const saturated = () => [...perMerchant.values()].filter((m) => m.groups >= maxPerMerchant);

  /** Claims a pass (of the merchants in `only`, default all) and starts writing each of its groups; answers them. */
  const dispatch = async (only?: readonly { account: string; livemode: boolean }[]) => {
    const token = randomUUID();
    const claimed = await claimDirty(deps.db, { limit: batchSize, leaseSeconds, settleMs: deps.settleMs ?? 200, token, only });
    const groups = new Map<string, DirtyCustomer[]>();
    for (const c of claimed) {
      const id = `${c.key.account}|${c.key.livemode}|${c.priority}`;
      groups.set(id, [...(groups.get(id) ?? []), c]);
    }
    const started = [...groups.values()].map((g) => ({ account: g[0].key.account, livemode: g[0].key.livemode, done: writeGroup(g, token) }));
    return { claimed: claimed.length, started };
  };

  /** One group under its lease: renewed while it runs (the whole pass shares one token). */
  const writeGroup = async (customers: DirtyCustomer[], token: string): Promise<void> => {
    const renewal = setInterval(() => {
      renewClaims(deps.db, token, leaseSeconds).catch((err: unknown) => deps.logger.warn({ err }, 'could not renew push leases'));
    }, Math.max(100, (leaseSeconds * 1000) / 3));
    try {
      await pushGroup(deps, customers, token);
    } catch (err) {
      deps.logger.error({ err }, 'push group failed');
    } finally {
      clearInterval(renewal);
    }
  };

  const runOnce = async (): Promise<number> => {
    const { claimed, started } = await dispatch();
    await Promise.all(started.map((g) => g.done));
    return claimed;
  };

  const policy = { batchSize, settleMs: deps.settleMs ?? 200, maxHoldMs: deps.maxHoldMs ?? 5000 };
  const minPassIntervalMs = deps.minPassIntervalMs ?? 1000;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    }).finally(() => {
      wakeUp = null;
    });
  const loop = async () => {
    while (running) {
      let handled = 0;
      const started = Date.now();
      try {
        if (inFlight.size >= maxGroups) {
          await Promise.race(inFlight);
          continue;
        }
        if (deps.pressure?.busy()) await deps.pressure.yieldToAcknowledgements();
        if (!running) break;
        // Merchants whose batch is due (each judged on its own backlog), leaving out those still being written.
        // A merchant with a group running gets another only for a full batch: pipelining a flood, never splitting
        // a burst into small batches (each costs the same HubSpot calls as a full one).
        const due = (await pushReadiness(deps.db, saturated())).filter(
          (m) => shouldPush(m, policy) && (!perMerchant.has(`${m.account}|${m.livemode}`) || m.ready >= batchSize),
        );
        if (due.length > 0) {
          const pass = await dispatch(due);
          handled = pass.claimed;
          for (const g of pass.started) {
            const key = `${g.account}|${g.livemode}`;
            const m = perMerchant.get(key) ?? { account: g.account, livemode: g.livemode, groups: 0 };
            m.groups += 1;
            perMerchant.set(key, m);
            inFlight.add(g.done);
            // A group finishing lets its merchant's next batch be claimed at once.
            void g.done.then(() => {
              inFlight.delete(g.done);
              if ((m.groups -= 1) === 0) perMerchant.delete(key);
              wakeUp?.();
            });
          }
        }
      } catch (err) {
        deps.logger.error({ err }, 'push pass failed');
      }
      if (!running || handled >= batchSize) continue;
      // After a partial pass, let changes gather for a moment: steady traffic becomes fuller batches and the
      // portal's budget is not spent on many one-contact writes. A wake (new changes, a group done) cuts it short
      // only when nothing was handled.
      if (handled > 0) {
        await new Promise((r) => setTimeout(r, Math.max(0, minPassIntervalMs - (Date.now() - started))));
        continue;
      }
      await sleep(pollMs);
    }
    await Promise.all(inFlight);
  };
  const looping = running ? loop() : Promise.resolve();

  return {
    wake: () => wakeUp?.(),
    runOnce,
    async stop() {
      running = false;
      wakeUp?.();
      await looping;
    },
  };
}

async function pushGroup(deps: PusherDeps, customers: DirtyCustomer[], token: string): Promise<void> {
  const { account, livemode } = customers[0].key;
  const { db, logger } = deps;
  const checkMs = deps.connectionCheckMs ?? 60_000;
  let portalId: number | null = null;
  try {
    const lookup = await deps.gatewayFor(account, livemode, { share: customers[0].priority === 'backfill' ? 0.5 : 1 });
    if ('none' in lookup) {
      await settle(db, customers, token, 'skipped', lookup.none);
      return;
    }
    portalId = lookup.gateway.portalId;
    // A connection HubSpot refuses: keep every change and make no call until a check finds it working.
    const refused = await connectionFailure(db, account, livemode);
    if (refused) {
      await holdForConnection(db, customers, token, pausedReason(refused.state, refused.message), checkMs);
      return;
    }
    const { settings } = await loadSettings(db, account, livemode);
    const { gateway, products } = await productOptionsGateway(db, lookup.gateway, settings, account, livemode, customers.map((c) => c.status));
    const guard = await guardProperties(db, gateway, propertyDefinitions(settings, products), {
      recheckMs: deps.propertyRecheckMs ?? 300_000,
      passToken: token,
    });
    await writeContacts(deps, guard.gateway, lookup.objects ?? null, settings, customers, token);
    await resendOwedProperties(deps, portalId);
  } catch (err) {
    // Customers already settled in this pass are not touched below (their claim token is gone).
    const message = err instanceof Error ? err.message : String(err);
    // The destination port's class of the failure decides: `connection` pauses the connection; the rest are retried.
    const refused = hubspotErrorClass(err) === 'connection' ? asConnectionFailure(err) : null;
    if (refused) {
      // The connection, not these customers: pause it (shown in the Stripe App), keep the changes, check it later.
      logger.warn({ account, livemode, portalId, status: refused.status, category: refused.category }, 'HubSpot refuses the connection; writes paused');
      await recordConnectionFailure(
        db,
        { accountKey: account, livemode, portalId, state: refused.severity, code: refused.category, message: refused.message },
        checkMs,
      ).catch((e: unknown) => logger.warn({ err: e }, 'could not record the refused HubSpot connection'));
      await holdForConnection(db, customers, token, pausedReason(refused.severity, refused.message), checkMs).catch(() => undefined);
      return;
    }
    // HubSpot down past our retries, or anything unexpected: release the lease and retry later. When the whole
    // portal failed, the portal answering again wakes these customers (hubspot-health.ts).
    logger.warn({ err, account, livemode }, 'HubSpot write failed; will retry');
    const waitingOnPortal = err instanceof RetryableHubSpotError ? portalId : null;
    for (const c of customers) await markRetry(db, c, token, message, { ...deps.retry, waitingOnPortal }).catch(() => undefined);
    // Properties this pass created again are owed their rewrite even though the pass failed.
    if (portalId !== null) {
      await resendOwedProperties(deps, portalId).catch((e: unknown) => logger.warn({ err: e, portalId }, 'could not queue the rewrite of recreated properties'));
    }
  }
}

/**
 * After a pass: the customers linked before properties were created again in the portal (by this pass, or by one
 * that stopped before it could) are queued to have their values written again (one query when nothing is owed).
 */
async function resendOwedProperties(deps: PusherDeps, portalId: number): Promise<void> {
  const { properties, resent } = await takePropertyResends(deps.db, portalId);
  if (resent > 0) deps.logger.info({ portalId, properties, resent }, 'HubSpot properties created again; their values are written again');
}

function pausedReason(state: 'paused' | 'broken', message: string): string {
  return state === 'broken'
    ? `Waiting: the HubSpot connection must be reconnected (${message})`
    : `Waiting: HubSpot refuses our access (${message}); writing resumes once it accepts it again`;
}

/** Customers nothing can be written for, with one reason, and their events: two statements in all. */
async function settle(db: Db, cs: DirtyCustomer[], token: string, state: 'skipped' | 'failed', reason: string) {
  await markSettled(db, cs, token, state, reason);
  await settleCustomerEvents(db, cs, state, reason);
}

/**
 * Identity, then writes (README, "Who is who"): the stored link; else the contact holding the customer id in the
 * unique property; else the contact with the customer's email; else a new contact (when allowed) — see
 * push-identity.ts. Then each linked contact is written as the roll-up of all its customers — see push-groups.ts.
 */
async function writeContacts(
  deps: PusherDeps,
  gw: CrmGateway,
  objects: CrmObjectStage | null,
  settings: SyncSettings,
  claimedCustomers: DirtyCustomer[],
  token: string,
): Promise<void> {
  const { db } = deps;
  let customers = claimedCustomers;
  const { account, livemode } = customers[0].key;
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
  const written: Written[] = [];
  const ctx: PushContext = {
    db,
    gw,
    settings,
    token,
    leaseSeconds: deps.leaseSeconds ?? 120,
    outcomes: {
      done: async (c, contactId, properties) => void written.push({ c, contactId, properties }),
      failed: (c, r) => failed(deps, gw, c, token, r),
      flush: () => recordWritten(deps, gw, objects, settings, written.splice(0), token),
    },
  };
  const links = await resolveLinks(ctx, customers);

  const creates: DirtyCustomer[] = [];
  const noEmail: DirtyCustomer[] = [];
  const noCreate: DirtyCustomer[] = [];
  for (const c of customers) {
    if (links.has(c.key.customerId)) continue;
    if (!normalEmail(c.status.email)) noEmail.push(c);
    else if (!settings.options.createContacts) noCreate.push(c);
    else creates.push(c);
  }
  await settle(db, noEmail, token, 'skipped', 'The Stripe customer has no email and no linked HubSpot contact');
  await settle(db, noCreate, token, 'skipped', 'No HubSpot contact matches and creating contacts is turned off');

  for (const [customerId, link] of await createContacts(ctx, creates)) links.set(customerId, link);
  await writeLinkedContacts(ctx, customers.filter((c) => links.has(c.key.customerId)), links);
  await ctx.outcomes.flush();
}

interface Written {
  c: DirtyCustomer;
  contactId: string;
  properties: Record<string, string>;
}

/**
 * Customers whose contact now holds their version: the records hanging off the contacts (companies, deals,
 * tickets, timeline) are written for all of them in one batch, then each customer is recorded — written; or its
 * contact written and the rest tried again later; or a record refused for good (a dead letter) and the customer
 * written all the same, so one refused deal never holds back the contact.
 */
async function recordWritten(
  deps: PusherDeps,
  gw: CrmGateway,
  objects: CrmObjectStage | null,
  settings: SyncSettings,
  written: Written[],
  token: string,
): Promise<void> {
  if (written.length === 0) return;
  const { account, livemode } = written[0]!.c.key;
  const contacts = written.map((w) => ({ customerId: w.c.key.customerId, contactId: w.contactId, status: w.c.status, syncedStatus: w.c.syncedStatus }));
  const outcomes = objects ? await objects.write({ account, livemode, settings, contacts }) : new Map<string, ObjectOutcome>();
  const tasks = await writeFailedPaymentTasks(deps, gw, settings, { account, livemode }, contacts);
  const pushed: { c: DirtyCustomer; properties: Record<string, string> }[] = [];
  for (const w of written) {
    const o = withTaskOutcome(outcomes.get(w.c.key.customerId), tasks.get(w.c.key.customerId));
    if (o && !o.ok && !o.permanent) {
      await markObjectsRetry(deps.db, w.c, token, writtenProperties(gw, w.properties), o.message, deps.retry);
      continue;
    }
    if (o && !o.ok) await addDeadLetter(deps.db, w.c, gw.portalId, o.message, o.category);
    pushed.push({ c: w.c, properties: writtenProperties(gw, w.properties) });
  }
  // Two statements for the whole batch: the customers written, then their events.
  await markPushedMany(deps.db, pushed, token);
  await settleCustomerEvents(deps.db, pushed.map((p) => p.c), 'synced', null);
}

async function failed(deps: PusherDeps, gw: CrmGateway, c: DirtyCustomer, token: string, r: WriteResult | undefined) {
  const message = r && !r.ok ? r.message : 'HubSpot returned no result for this contact';
  // The port's class of the record's failure: `record` is a dead letter; slowing down and outages are retried.
  if (r && !r.ok && hubspotRecordClass(r) !== 'record') {
    // A whole portal failing (outage, limits) is waited out together: the portal answering again wakes it.
    await markRetry(deps.db, c, token, message, { ...deps.retry, waitingOnPortal: isPortalWideCategory(r.category) ? gw.portalId : null });
    return;
  }
  const category = r && !r.ok ? r.category : null;
  await addDeadLetter(deps.db, c, gw.portalId, message, category);
  await settle(deps.db, [c], token, 'failed', message);
  deps.logger.warn({ customerId: c.key.customerId, portalId: gw.portalId, category }, 'HubSpot refused the contact write');
}
