import { randomBytes } from 'node:crypto';
import type { ServerContext, StartServerOptions } from '../server';
import { createHubSpotAdapter, type HubSpotAdapter } from '../adapters/hubspot/adapter';
import { createInstallRegistry, type Install, type InstallRegistry } from '../adapters/hubspot/installs';
import { createTokenCipher } from '../adapters/hubspot/crypto';
import { createOAuthFlow } from '../adapters/hubspot/oauth-flow';
import { hubspotGateway } from '../adapters/hubspot/gateway';
import { createApplyProcessor } from '../jobs/apply-events';
import { startPusher, type Pusher } from '../jobs/push-contacts';
import { DEFAULT_CONNECTION_CHECK_MS, startHealthMonitor, type HealthMonitor, type HealthMonitorOptions } from '../jobs/hubspot-health';
import { connectionHealth } from '../adapters/store/connection-health';
import type { RetryBackoff } from '../adapters/store/push-store';
import type { RetryPolicy } from '../adapters/hubspot/call';
import type { EventProcessor } from '../jobs/types';
import type { GatewayLookup } from '../domain/sync/ports';
import { appApiRouter } from '../http/app-api/router';
import type { BackfillService, InstallService } from '../http/app-api/services';
import { cardApiRouter } from '../http/card-api/router';
import { registryPortalInstalls } from '../http/card-api/portal-installs';
import { createStripeContactLookup } from '../http/card-api/stripe-lookup';
import { APP_API_PREFIX, CARD_API_PREFIX, type HubSpotConnection } from '@stripe-hubspot-sync/contracts';
import { createCustomerRefresher } from './refresh';
import { createLifecycleHandlers } from '../jobs/lifecycle';
import { createObjectStage, type CrmObjectWriter } from '../jobs/crm-objects/stage';
import { OBJECT_WRITERS } from '../jobs/crm-objects/writers';
import { hubletOfToken } from '../domain/crm/hubspot-links';

/** The running sync engine of one backend instance. */
export interface SyncEngine {
  processor: EventProcessor;
  pusher: Pusher;
  installs: InstallRegistry;
  hubspot: HubSpotAdapter;
  gatewayFor(account: string, livemode: boolean, opts?: { share?: number }): Promise<GatewayLookup>;
  installService: InstallService;
  /** Notices HubSpot accepting a refused connection again, or a portal answering after an outage. */
  health: HealthMonitor;
}

export interface SyncEngineOptions {
  /** Pusher timing (tests and benchmarks tune it). */
  pusher?: {
    settleMs?: number;
    pollMs?: number;
    batchSize?: number;
    leaseSeconds?: number;
    minPassIntervalMs?: number;
    maxHoldMs?: number;
    maxGroups?: number;
    maxGroupsPerMerchant?: number;
    retry?: RetryBackoff;
    propertyRecheckMs?: number;
  };
  /** Connection checks and outage probes (tests shorten them). */
  health?: HealthMonitorOptions;
  /** Retries of each HubSpot call (tests shorten them). */
  hubspotRetry?: Partial<RetryPolicy>;
  /** The writers of companies, deals, tickets and timeline (default: all of the product's, `OBJECT_WRITERS`). */
  objectWriters?: readonly CrmObjectWriter[];
  /** Extra wiring after the engine exists (backfill, recovery, lifecycle routes). */
  plugins?: ((ctx: ServerContext, engine: SyncEngine) => void | Promise<void> | { backfill?: BackfillService })[];
}

/** `startServer` options that run the full product: apply + push, the Stripe App API and the card API. */
export function syncEngineServerOptions(options: SyncEngineOptions = {}): Pick<StartServerOptions, 'extend' | 'processor'> {
  let engine: SyncEngine | undefined;
  return {
    async extend(ctx) {
      engine = createSyncEngine(ctx, options);
      let backfill: BackfillService | undefined;
      for (const plugin of options.plugins ?? []) {
        const out = await plugin(ctx, engine);
        if (out && typeof out === 'object' && out.backfill) backfill = out.backfill;
      }
      const { config } = ctx;
      ctx.app.use(
        APP_API_PREFIX,
        appApiRouter(
          { db: ctx.db, installs: engine.installService, backfill, wakePusher: () => engine!.pusher.wake(), queue: ctx.queue, privateAppHublet: hubletOfToken(config.hubspot.accessToken) },
          { secret: config.stripe.appSecret, toleranceSeconds: 300, ownAccountId: config.stripe.accountId },
        ),
      );
      const refresher = config.stripe.apiKey
        ? createCustomerRefresher(ctx.db, config.stripe.apiKey, config.stripe.apiBaseUrl, () => engine!.pusher.wake(), {
            minIntervalSeconds: config.limits.cardRefreshMinIntervalSeconds,
          })
        : undefined;
      const portals = registryPortalInstalls(ctx.db, engine.installs, engine.hubspot);
      const lookup =
        config.stripe.apiKey && refresher
          ? createStripeContactLookup({ db: ctx.db, apiKey: config.stripe.apiKey, apiBaseUrl: config.stripe.apiBaseUrl, portals, fold: refresher, onFound: () => engine!.pusher.wake() })
          : undefined;
      ctx.app.use(
        CARD_API_PREFIX,
        cardApiRouter({
          db: ctx.db,
          clientSecret: config.hubspot.clientSecret,
          cardClientSecret: config.hubspot.cardClientSecret,
          publicUrl: config.publicUrl,
          refresh: refresher,
          lookup,
          portalAccounts: portals,
          privateAppHublet: hubletOfToken(config.hubspot.accessToken),
        }),
      );
      const running = engine;
      ctx.onShutdown(async () => {
        await running.health.stop();
        await running.pusher.stop();
        running.hubspot.close();
      });
    },
    processor: () => {
      if (!engine) throw new Error('sync engine not created');
      return engine.processor;
    },
  };
}

export function createSyncEngine(ctx: ServerContext, options: SyncEngineOptions = {}): SyncEngine {
  const { config, db, logger } = ctx;
  const hubspot = createHubSpotAdapter({
    db,
    apiBaseUrl: config.hubspot.apiBaseUrl,
    rateLimitPer10s: config.hubspot.rateLimitPer10s,
    registry: ctx.metrics.registry,
    retry: options.hubspotRetry,
    // Any call a portal answers wakes the writes waiting out its outage.
    onCallSucceeded: (portalId) => health.portalSucceeded(portalId),
  });
  const oauth =
    config.hubspot.clientId && config.hubspot.clientSecret
      ? { clientId: config.hubspot.clientId, clientSecret: config.hubspot.clientSecret, apiBaseUrl: config.hubspot.apiBaseUrl }
      : undefined;
  // Without OAuth nothing is stored encrypted; a throwaway key keeps the registry's contract.
  const cipher = createTokenCipher(config.tokenEncryptionKey ?? randomBytes(32));
  const installs = createInstallRegistry({
    cipher,
    oauth,
    apiBaseUrl: config.hubspot.apiBaseUrl,
    privateApp: config.hubspot.accessToken
      ? { accessToken: config.hubspot.accessToken, modes: config.hubspot.privateAppModes, portalId: config.hubspot.privateAppPortalId }
      : undefined,
  });

  const writers = options.objectWriters ?? OBJECT_WRITERS;
  const gatewayFor = async (account: string, livemode: boolean, opts: { share?: number } = {}): Promise<GatewayLookup> => {
    const install = await installs.resolveInstall(db, { accountId: account || null, livemode });
    if (!install) return { none: `No HubSpot portal is connected for ${livemode ? 'live' : 'test'} mode` };
    const share = opts.share !== undefined && opts.share < 1 ? { share: opts.share } : undefined;
    const portal = hubspot.portal(installs.portalAuth(db, install), share);
    return {
      gateway: hubspotGateway(portal),
      objects: writers.length > 0 ? createObjectStage({ db, logger, portal, authKind: install.kind, writers, timelineTemplateId: install.kind === 'oauth' && install.scopes.includes('timeline') ? (config.hubspot.timelineTemplateId ?? null) : null }) : undefined,
    };
  };

  // Customers a crashed pusher held are written again after QUEUE_EXPIRE_SECONDS, like its event jobs.
  const pusher = startPusher({
    db,
    logger,
    gatewayFor,
    leaseSeconds: config.queue.expireSeconds,
    pressure: ctx.pressure,
    connectionCheckMs: options.health?.connectionCheckMs ?? DEFAULT_CONNECTION_CHECK_MS,
    ...options.pusher,
  });
  const health = startHealthMonitor({ db, logger, installs, hubspot, onWoken: () => pusher.wake(), ...options.health });
  const processor = createApplyProcessor({
    db,
    onCustomersChanged: () => pusher.wake(),
    lifecycle: createLifecycleHandlers({ db, logger, installs }),
  });

  const redirectUri = (livemode: boolean) =>
    `https://dashboard.stripe.com/${livemode ? '' : 'test/'}apps-oauth/${config.stripe.appId ?? 'com.stripe-hubspot-sync.app'}`;
  const oauthFlow = oauth ? createOAuthFlow({ db, installs, cipher, oauth, redirectUri }) : null;
  const installService: InstallService = {
    async connection(account, livemode) {
      const install = await installs.resolveInstall(db, { accountId: account || null, livemode });
      return install ? { ...toConnection(install), health: await connectionHealth(db, account, livemode, install.portalId) } : null;
    },
    oauth: oauthFlow && { ...oauthFlow, confirm: async (args) => toConnection(await oauthFlow.confirm(args)) },
    disconnect: (account, livemode) => installs.disconnect(db, { accountId: account, livemode }),
  };

  return { processor, pusher, installs, hubspot, gatewayFor, installService, health };
}

function toConnection(install: Install): HubSpotConnection {
  return {
    portalId: install.portalId,
    hubDomain: install.hubDomain,
    connectedAt: (install.createdAt ?? new Date()).toISOString(),
    kind: install.kind,
  };
}
