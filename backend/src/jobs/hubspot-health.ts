import type { Logger } from 'pino';
import type { Db } from '../adapters/store/db';
import type { HubSpotAdapter } from '../adapters/hubspot/adapter';
import type { InstallRegistry } from '../adapters/hubspot/installs';
import { asConnectionFailure, type ConnectionHubSpotError } from '../adapters/hubspot/errors';
import { checkHubSpot, hubspotErrorClass } from '../adapters/hubspot/destination';
import type { ConnectionCheck } from '../domain/destinations/port';
import { claimDueChecks, clearConnectionFailure, recordConnectionFailure } from '../adapters/store/connection-health';
import { portalsWithWaitingWork, wakeConnection, wakePortal } from '../adapters/store/push-store';

/**
 * HubSpot coming back, noticed. Two kinds of waiting work, both kept in the database:
 * - connections HubSpot refused (401/403, a refused refresh): each is checked with one cheap authenticated call
 *   every `connectionCheckMs`; when it succeeds the connection is healthy again and its customers are written.
 * - customers waiting out a portal's outage (5xx, network, 429): their backoff grows long, so the portal is probed
 *   every `outageProbeMs`, and any call the portal answers with success (the probe, another customer's write)
 *   wakes all of them at once. Each instance looks at most every `wakeThrottleMs` per portal, so a busy portal
 *   costs one indexed read per interval.
 */

export interface HealthMonitorOptions {
  /** How often a refused connection is checked (default 60 s). */
  connectionCheckMs?: number;
  /** How often a portal with writes waiting out an outage is probed (default 15 s). */
  outageProbeMs?: number;
  /** Shortest time between two wake-ups of one portal's waiting work by successful calls (default 2 s). */
  wakeThrottleMs?: number;
  /** How often the loop looks for due work (default 1 s). */
  tickMs?: number;
}

export interface HealthMonitorDeps extends HealthMonitorOptions {
  db: Db;
  logger: Logger;
  installs: InstallRegistry;
  hubspot: HubSpotAdapter;
  /** Customers became due: the pusher should look now. */
  onWoken(): void;
}

export interface HealthMonitor {
  /** A call to this portal succeeded (wired to the HubSpot adapter). */
  portalSucceeded(portalId: number): void;
  /**
   * Checks the connection of (account, mode) now, as the periodic check does: working, the refusal is cleared and
   * its waiting customers are due; refused, it is recorded (paused or broken). Null: no connection.
   */
  checkConnection(account: string, livemode: boolean): Promise<ConnectionCheck | null>;
  /** One round: due connection checks and outage probes. */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_CONNECTION_CHECK_MS = 60_000;

export function startHealthMonitor(deps: HealthMonitorDeps, opts: { loop?: boolean } = {}): HealthMonitor {
  const { db, logger } = deps;
  const connectionCheckMs = deps.connectionCheckMs ?? DEFAULT_CONNECTION_CHECK_MS;
  const outageProbeMs = deps.outageProbeMs ?? 15_000;
  const wakeThrottleMs = deps.wakeThrottleMs ?? 2_000;
  const tickMs = deps.tickMs ?? 1_000;
  const lastWake = new Map<number, number>();
  const lastProbe = new Map<number, number>();
  let running = opts.loop !== false;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> = Promise.resolve();

  const wake = async (portalId: number) => {
    lastWake.set(portalId, Date.now());
    const woken = await wakePortal(db, portalId);
    if (woken > 0) {
      logger.info({ portalId, woken }, 'HubSpot portal answers again; its waiting writes are due now');
      deps.onWoken();
    }
  };

  /** One call with the connection of (account, mode); null when there is no connection any more. */
  const probe = async (account: string, livemode: boolean) => {
    const install = await deps.installs.resolveInstall(db, { accountId: account || null, livemode });
    if (!install) return null;
    // The destination port's connection check of HubSpot.
    const { label } = await checkHubSpot(deps.hubspot.callHubSpot, deps.installs.portalAuth(db, install));
    return { install, label };
  };

  const noteRefused = (account: string, livemode: boolean, portalId: number | null, refused: ConnectionHubSpotError) =>
    recordConnectionFailure(
      db,
      { accountKey: account, livemode, portalId, state: refused.severity, code: refused.category, message: refused.message },
      connectionCheckMs,
    );

  /** One check of a connection; `portalId` is the one a refusal is recorded under when there is no install. */
  const check = async (account: string, livemode: boolean, portalId: number | null): Promise<ConnectionCheck | null> => {
    try {
      const checked = await probe(account, livemode);
      // Healthy again, or gone (a disconnected account's customers are settled by the pusher).
      await clearConnectionFailure(db, account, livemode);
      const woken = await wakeConnection(db, account, livemode);
      if (checked) logger.info({ account, livemode, portalId: checked.install.portalId, woken }, 'HubSpot connection works');
      deps.onWoken();
      return checked && { ok: true, label: checked.label, woken };
    } catch (err) {
      const errorClass = hubspotErrorClass(err);
      const refused = errorClass === 'connection' ? asConnectionFailure(err) : null;
      if (refused) await noteRefused(account, livemode, portalId, refused);
      else logger.warn({ err, account, livemode }, 'HubSpot connection check failed; checking again later');
      return { ok: false, errorClass, message: err instanceof Error ? err.message : String(err) };
    }
  };

  const checkConnections = async () => {
    for (const f of await claimDueChecks(db, connectionCheckMs)) await check(f.accountKey, f.livemode, f.portalId);
  };

  const probeOutages = async () => {
    const now = Date.now();
    for (const w of await portalsWithWaitingWork(db)) {
      if (now - (lastProbe.get(w.portalId) ?? 0) < outageProbeMs) continue;
      lastProbe.set(w.portalId, now);
      try {
        // Answered (or this connection is gone, which the pusher settles): what waited is due now.
        await probe(w.account, w.livemode);
        await wake(w.portalId);
      } catch (err) {
        const refused = asConnectionFailure(err);
        if (refused) await noteRefused(w.account, w.livemode, w.portalId, refused);
        else logger.debug({ err, portalId: w.portalId }, 'HubSpot portal still not answering');
      }
    }
  };

  const runOnce = async () => {
    await checkConnections();
    await probeOutages();
  };

  const schedule = () => {
    if (!running) return;
    timer = setTimeout(() => {
      current = runOnce()
        .catch((err: unknown) => logger.warn({ err }, 'HubSpot health round failed'))
        .finally(schedule);
    }, tickMs);
  };
  schedule();

  return {
    portalSucceeded(portalId) {
      if (Date.now() - (lastWake.get(portalId) ?? 0) < wakeThrottleMs) return;
      lastWake.set(portalId, Date.now());
      wake(portalId).catch((err: unknown) => logger.warn({ err, portalId }, 'could not wake the waiting writes of a portal'));
    },
    async checkConnection(account, livemode) {
      const install = await deps.installs.resolveInstall(db, { accountId: account || null, livemode });
      return install ? check(account, livemode, install.portalId) : null;
    },
    runOnce,
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await current.catch(() => undefined);
    },
  };
}
