import type { ServerContext } from '../../server';
import type { SyncEngine } from '../../sync/engine';
import type { BackfillService } from '../../http/app-api/services';
import { hubspotWebhookRouter } from '../../http/webhook-hubspot';
import { registryPortalInstalls } from '../../http/card-api/portal-installs';
import { createIngestor } from '../../ingest/ingestor';
import { driftCheck, type DriftCheckDeps, type DriftResult } from '../drift-check';
import { hubspotContactReader } from '../hubspot-read';
import {
  installedTargets,
  recoverMissedEvents,
  startRecoverySchedule,
  type RecoveryResult,
  type RecoverySchedule,
  type RecoveryScheduleOptions,
  type RecoveryTarget,
} from '../recovery';
import { createBackfillMetrics } from './metrics';
import { startBackfillRunner, type BackfillRunner, type BackfillRunnerOptions } from './runner';
import { createBackfillService, stripeForMode, stripeKeys } from './service';

export interface CompletenessPluginOptions {
  /** Runner tuning (tests: lease, poll, rates). */
  runner?: Partial<Omit<BackfillRunnerOptions, 'db' | 'logger' | 'stripeFor'>>;
  /** Schedule tuning (tests: tick). */
  recovery?: Partial<Pick<RecoveryScheduleOptions, 'tickMs' | 'leaseSeconds' | 'owner'>> & { sampleSize?: number };
  /** Receives the running parts (tests, operations). */
  expose?(handle: CompletenessHandle): void;
}

export interface CompletenessHandle {
  runner: BackfillRunner;
  backfill: BackfillService;
  schedule: RecoverySchedule;
  recover(target: RecoveryTarget): Promise<RecoveryResult>;
  driftCheck(target: RecoveryTarget): Promise<DriftResult>;
  /** The drift check's reader of each connection (HubSpot batch reads at half the portal's budget). */
  readerFor: DriftCheckDeps['readerFor'];
}

/**
 * A sync-engine plugin (`syncEngineServerOptions({ plugins: [completenessPlugin()] })`) that keeps the CRM complete:
 * the backfill runner and the Stripe App's backfill service, the scheduled recovery of missed events with the
 * drift check, and `POST /webhooks/hubspot` (contact and privacy deletions). Stopped at shutdown.
 */
export function completenessPlugin(options: CompletenessPluginOptions = {}) {
  return (ctx: ServerContext, engine: SyncEngine): { backfill: BackfillService } => {
    const { config, db, logger } = ctx;
    const metrics = createBackfillMetrics(ctx.metrics.registry);
    const keys = stripeKeys(config.stripe.apiKey);
    const stripeFor = stripeForMode(keys, config.stripe.apiBaseUrl);
    const wakePusher = () => engine.pusher.wake();

    const runner = startBackfillRunner({ db, logger, stripeFor, metrics, onCustomersChanged: wakePusher, ...options.runner });
    const backfill = createBackfillService({ db, wake: runner.wake, hasKey: (live) => Boolean(live ? keys.live : keys.test) });

    ctx.app.use(
      hubspotWebhookRouter({
        db,
        clientSecret: config.hubspot.clientSecret,
        cardClientSecret: config.hubspot.cardClientSecret,
        publicUrl: config.publicUrl,
        portals: registryPortalInstalls(db, engine.installs, engine.hubspot),
        logger,
        metrics,
      }),
    );

    // Recovered events enter the inbox through an ingestor of their own: the same insert + enqueue transaction.
    const ingestor = createIngestor({ db, queue: ctx.queue, metrics: ctx.metrics, logger });
    const privateApp: RecoveryTarget[] = config.hubspot.accessToken
      ? config.hubspot.privateAppModes.map((m) => ({ account: '', livemode: m === 'live' }))
      : [];
    const readerFor: DriftCheckDeps['readerFor'] = async (account, livemode) => {
      const install = await engine.installs.resolveInstall(db, { accountId: account || null, livemode });
      if (!install) return null;
      const portal = engine.hubspot.portal(engine.installs.portalAuth(db, install), { share: 0.5 });
      return { portalId: install.portalId, reader: hubspotContactReader(portal) };
    };
    const { sampleSize, ...scheduleTuning } = options.recovery ?? {};
    const recover = (target: RecoveryTarget, signal?: AbortSignal) => recoverMissedEvents({ ingestor, stripeFor, logger, metrics, signal }, target);
    const checkDrift = (target: RecoveryTarget) => driftCheck({ db, logger, readerFor, metrics, sampleSize, onRepairs: wakePusher }, target);
    const schedule = startRecoverySchedule({
      db,
      logger,
      intervalMinutes: config.recoveryIntervalMinutes,
      targets: async () => [...(await installedTargets(db)), ...privateApp],
      recover,
      driftCheck: checkDrift,
      ...scheduleTuning,
    });
    options.expose?.({ runner, backfill, schedule, recover: (t) => recover(t), driftCheck: checkDrift, readerFor });

    ctx.onShutdown(async () => {
      await schedule.stop();
      await runner.stop();
      await ingestor.close();
    });
    return { backfill };
  };
}
