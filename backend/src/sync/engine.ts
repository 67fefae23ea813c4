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
import { startDestinationPusher, type DestinationPusher, type DestinationPusherOptions } from '../jobs/destinations/push';
import { foregroundOf } from '../queue/apply-backlog';
import { createDbRatePacer } from '../adapters/destinations/rate-pacer';
import { DESTINATION_ADAPTERS, type AdapterFactories } from '../adapters/destinations/registry';
import { DestinationError, type DestinationEngine, type OAuthTokenSource, type RatePacer } from '../domain/destinations/port';
import type { DestinationOAuthService, DestinationService } from '../http/app-api/services';
import { createKlaviyoOAuthClient } from '../adapters/klaviyo/oauth';
import { createSalesforceOAuthClient } from '../adapters/salesforce/oauth';
import { createIntercomOAuthClient } from '../adapters/intercom/oauth';
import { createDestinationOAuthFlow } from '../adapters/destinations/oauth-flow';
import type { DestinationOAuthClient } from '../adapters/destinations/oauth';
import { createDbTokenSource } from '../adapters/destinations/oauth-token-source';
import { credentialsDocument, parseCredentials, type DestinationCredentials } from '../adapters/store/destinations-store';
import {
  DESTINATION_KINDS,
  DESTINATION_LABELS,
  INTERCOM_REGIONS,
  OAUTH_DESTINATION_KINDS,
  type DestinationKind,
  type IntercomRegion,
  type OAuthDestinationKind,
  type SalesforceEnvironment,
} from '@stripe-hubspot-sync/contracts';
import { intercomRegionUrl } from '../adapters/intercom/adapter';

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
  /** Writes the profile destinations (Klaviyo, Loops, Intercom, Salesforce), each on its own. */
  destinationPusher: DestinationPusher;
  /** Every destination's pusher as the destination port runs it (HubSpot's, then the profile destinations'). */
  destinations: readonly DestinationEngine[];
  destinationService: DestinationService;
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
  /** Destination pusher timing (tests tune it). */
  destinations?: Omit<DestinationPusherOptions, 'db' | 'logger' | 'adapterFor'>;
  /** The destination adapters by kind (default: the product's, `DESTINATION_ADAPTERS`). */
  destinationAdapters?: AdapterFactories;
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
          {
            db: ctx.db,
            installs: engine.installService,
            destinations: engine.destinationService,
            backfill,
            wakePusher: () => engine!.pusher.wake(),
            queue: ctx.queue,
            privateAppHublet: hubletOfToken(config.hubspot.accessToken),
          },
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
        for (const e of running.destinations) await e.stop();
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
  const destinations = createDestinations(ctx, options);
  // One fold, then each destination's pusher on its own: HubSpot's (with its health monitor) and the profile
  // destinations' (each destination with its own leases, retries, dead letters and pacing).
  const engines: DestinationEngine[] = [
    {
      kinds: ['hubspot'],
      wake: () => pusher.wake(),
      stop: async () => {
        await health.stop();
        await pusher.stop();
      },
    },
    { kinds: DESTINATION_KINDS, wake: () => destinations.pusher.wake(), stop: () => destinations.pusher.stop() },
  ];
  const processor = createApplyProcessor({
    db,
    onCustomersChanged: () => {
      for (const e of engines) e.wake();
    },
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
    check: (account, livemode) => health.checkConnection(account, livemode),
  };

  return {
    processor,
    pusher,
    installs,
    hubspot,
    gatewayFor,
    installService,
    health,
    destinationPusher: destinations.pusher,
    destinations: engines,
    destinationService: destinations.service,
  };
}

/**
 * The destinations beside HubSpot: their adapters (each with its own share of the database-backed rate pacer), their
 * pusher, and what the app API needs. Credentials are sealed with TOKEN_ENCRYPTION_KEY, bound to the destination's
 * id, as a document that says which kind they are (an API key, or OAuth tokens); without that key, destinations
 * cannot be connected (nothing could read a key back after a restart). OAuth destinations (Klaviyo, Salesforce, Intercom)
 * get a token source shared by every instance through the database (refreshed under a lease, compare-and-set; an
 * Intercom token never expires and is never refreshed: a refused one marks the destination broken).
 */
function createDestinations(ctx: ServerContext, options: SyncEngineOptions): { pusher: DestinationPusher; service: DestinationService } {
  const { config, db, logger } = ctx;
  const factories = options.destinationAdapters ?? DESTINATION_ADAPTERS;
  const cipher = config.tokenEncryptionKey ? createTokenCipher(config.tokenEncryptionKey) : null;
  const shared = createDbRatePacer(db);
  const pacerOf = (scope: string): RatePacer => ({
    acquire: (bucket, limits) => shared.acquire(`${scope}:${bucket}`, limits),
    penalize: (bucket, waitMs) => shared.penalize(`${scope}:${bucket}`, waitMs),
  });
  const baseUrl = (kind: DestinationKind, region: IntercomRegion | null, instanceUrl: string | undefined) => {
    switch (kind) {
      case 'klaviyo':
        return config.destinations.klaviyoApiBaseUrl;
      case 'loops':
        return config.destinations.loopsApiBaseUrl;
      case 'intercom':
        return config.destinations.intercomApiBaseUrl ?? intercomRegionUrl(region ?? 'us');
      case 'salesforce':
        // The org's instance URL comes with its OAuth tokens (checked by the OAuth client); Salesforce has no API key.
        if (!instanceUrl) throw new DestinationError('connection', 'Salesforce connects with OAuth only (Connect with Salesforce)');
        return instanceUrl;
    }
  };
  const adapter = (
    kind: DestinationKind,
    auth: { apiKey: string } | { oauth: OAuthTokenSource },
    scope: string,
    region: IntercomRegion | null = null,
    instanceUrl?: string,
  ) =>
    factories[kind]({
      apiKey: 'apiKey' in auth ? auth.apiKey : '',
      ...('oauth' in auth ? { oauth: auth.oauth } : {}),
      baseUrl: baseUrl(kind, region, instanceUrl),
      pacer: pacerOf(scope),
      ...(scope.startsWith('check:') ? {} : { memo: memoOf(scope) }),
    });
  // What each destination's adapters keep across passes in this instance, by destination id (checks keep nothing).
  const memos = new Map<string, Map<string, unknown>>();
  const memoOf = (id: string) => {
    let m = memos.get(id);
    if (!m) memos.set(id, (m = new Map()));
    return m;
  };

  // The OAuth clients of the destinations that connect with OAuth on this backend (Salesforce: one per login host).
  const klaviyoOAuthConfig = config.destinations.klaviyoOAuth;
  const klaviyoClient = klaviyoOAuthConfig ? createKlaviyoOAuthClient({ ...klaviyoOAuthConfig, apiBaseUrl: config.destinations.klaviyoApiBaseUrl }) : null;
  const sf = config.destinations.salesforceOAuth;
  const salesforceClients: Record<SalesforceEnvironment, DestinationOAuthClient> | null = sf
    ? {
        production: createSalesforceOAuthClient({ clientId: sf.clientId, clientSecret: sf.clientSecret, loginUrl: sf.loginUrl }),
        sandbox: createSalesforceOAuthClient({ clientId: sf.clientId, clientSecret: sf.clientSecret, loginUrl: sf.sandboxLoginUrl }),
      }
    : null;
  // Intercom: one per region (the workspace's authorize page and token endpoint; INTERCOM_API_BASE_URL in tests).
  const ic = config.destinations.intercomOAuth;
  const intercomClients: Record<IntercomRegion, DestinationOAuthClient> | null = ic
    ? (Object.fromEntries(
        INTERCOM_REGIONS.map((region) => [
          region,
          createIntercomOAuthClient({ clientId: ic.clientId, clientSecret: ic.clientSecret, region, authorizeUrl: ic.authorizeUrl, apiBaseUrl: config.destinations.intercomApiBaseUrl }),
        ]),
      ) as Record<IntercomRegion, DestinationOAuthClient>)
    : null;
  const environmentOf = (v: string | null | undefined): SalesforceEnvironment => (v === 'sandbox' ? 'sandbox' : 'production');
  const regionOf = (v: string | null | undefined): IntercomRegion => (INTERCOM_REGIONS as readonly (string | null | undefined)[]).includes(v) ? (v as IntercomRegion) : 'us';
  /** The kind's OAuth client where the destination lives: Salesforce's login environment, Intercom's region. */
  const oauthClientFor = (kind: DestinationKind, where: string | null | undefined): DestinationOAuthClient | null => {
    if (kind === 'klaviyo') return klaviyoClient;
    if (kind === 'salesforce') return salesforceClients?.[environmentOf(where)] ?? null;
    if (kind === 'intercom') return intercomClients?.[regionOf(where)] ?? null;
    return null;
  };
  const whereOf = (d: { kind: DestinationKind; region: IntercomRegion | null; environment?: SalesforceEnvironment | null }) =>
    d.kind === 'intercom' ? d.region : (d.environment ?? null);
  const OAUTH_SETTINGS: Partial<Record<DestinationKind, string>> = {
    klaviyo: 'KLAVIYO_CLIENT_ID / KLAVIYO_CLIENT_SECRET',
    salesforce: 'SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET',
    intercom: 'INTERCOM_CLIENT_ID / INTERCOM_CLIENT_SECRET',
  };
  // One token source per destination in this instance (it keeps the access token it last read); the row is the truth.
  const tokenSources = new Map<string, OAuthTokenSource>();

  const credentialsOf = (d: { id: string; keySealed: string }): DestinationCredentials => {
    try {
      if (!cipher) throw new Error('TOKEN_ENCRYPTION_KEY is not set');
      return parseCredentials(cipher.decrypt(d.keySealed, d.id));
    } catch {
      throw new DestinationError('connection', 'The stored key cannot be read on this backend (was TOKEN_ENCRYPTION_KEY changed?); connect again');
    }
  };
  const adapterFor = (d: { id: string; kind: DestinationKind; keySealed: string; region: IntercomRegion | null; environment?: SalesforceEnvironment | null }) => {
    const credentials = credentialsOf(d);
    if (credentials.kind === 'api_key') return adapter(d.kind, { apiKey: credentials.apiKey }, d.id, d.region);
    // Refreshed and revoked with the client of the login host (Intercom: region) the destination was connected with.
    const client = oauthClientFor(d.kind, whereOf(d));
    if (!client || !cipher) {
      throw new DestinationError('connection', `This destination was connected with OAuth, which is not configured on this backend (${OAUTH_SETTINGS[d.kind] ?? 'no OAuth client'})`);
    }
    let source = tokenSources.get(d.id);
    if (!source) tokenSources.set(d.id, (source = createDbTokenSource({ db, cipher, destinationId: d.id, client, label: DESTINATION_LABELS[d.kind] })));
    return adapter(d.kind, { oauth: source }, d.id, d.region, credentials.instanceUrl);
  };
  // A pass of one destination can wait out its rate limits (Loops: 10 requests/s for 100 customers and their events;
  // a Klaviyo import job is polled up to 20 s): its leases outlast that, and a crashed instance's run out after 3x
  // QUEUE_EXPIRE_SECONDS (writes are upserts and events are deduplicated by key, so a rewrite is harmless).
  // Passes wait (bounded) while this instance acknowledges a flood or applies a backlog: HubSpot's writes and the
  // applies every destination waits on go first, and a customer is written once its burst is applied.
  const pusher = startDestinationPusher({
    db,
    logger,
    adapterFor,
    leaseSeconds: config.queue.expireSeconds * 3,
    yieldTo: foregroundOf(ctx.pressure, ctx.backlog),
    yieldMaxMs: config.queue.destinationYieldMaxMs,
    ...options.destinations,
  });

  const redirectUri = (livemode: boolean) =>
    `https://dashboard.stripe.com/${livemode ? '' : 'test/'}apps-oauth/${config.stripe.appId ?? 'com.stripe-hubspot-sync.app'}`;
  const oauthServiceOf = (kind: OAuthDestinationKind): DestinationOAuthService | null => {
    if (!cipher || !oauthClientFor(kind, null)) return null;
    const label = DESTINATION_LABELS[kind];
    const flow = createDestinationOAuthFlow({ db, cipher, kind, clientFor: (environment) => oauthClientFor(kind, environment)!, redirectUri });
    return {
      // The state records where the code is to be exchanged: Salesforce's environment or Intercom's region.
      begin: (who, opts) => flow.begin(who, kind === 'salesforce' ? environmentOf(opts?.environment) : kind === 'intercom' ? regionOf(opts?.region) : null),
      async connect({ code, state, destinationId, ...who }) {
        const { tokens, environment } = await flow.complete({ ...who, code, state });
        const region = kind === 'intercom' ? regionOf(environment) : null;
        const client = oauthClientFor(kind, environment)!;
        const discard = () => client.revoke(tokens.refreshToken).catch(() => undefined);
        // The connection is checked with the new access token as it is (no refresh: it was just issued).
        const once: OAuthTokenSource = {
          accessToken: async () => tokens.accessToken,
          refreshAfter: async () => {
            throw new DestinationError('connection', `${label} refused the new access token`);
          },
        };
        let checked: string;
        try {
          checked = (await adapter(kind, { oauth: once }, `check:${destinationId}`, region, tokens.instanceUrl).check()).label;
        } catch (err) {
          await discard();
          throw err;
        }
        const document = credentialsDocument({
          kind: 'oauth',
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken,
          expiresAt: tokens.expiresAt.toISOString(),
          scope: tokens.scope,
          ...(tokens.instanceUrl ? { instanceUrl: tokens.instanceUrl } : {}),
        });
        return {
          label: checked,
          keySealed: cipher.encrypt(document, destinationId),
          environment: kind === 'salesforce' ? environmentOf(environment) : null,
          region,
          discard: async () => void (await discard()),
        };
      },
    };
  };
  const oauth: Partial<Record<OAuthDestinationKind, DestinationOAuthService>> = {};
  for (const kind of OAUTH_DESTINATION_KINDS) {
    const svc = oauthServiceOf(kind);
    if (svc) oauth[kind] = svc;
  }

  const service: DestinationService = {
    check: (kind, apiKey, region) => adapter(kind, { apiKey }, `check:${kind}`, region ?? null).check(),
    test: (d) => adapterFor(d).check(),
    seal: (id, plain) => (cipher ? cipher.encrypt(plain, id) : null),
    wake: () => pusher.wake(),
    oauth,
    async beforeDelete(d) {
      tokenSources.delete(d.id);
      memos.delete(d.id);
      const client = d.authKind === 'oauth' ? oauthClientFor(d.kind, whereOf(d)) : null;
      if (!client) return;
      let credentials: DestinationCredentials;
      try {
        credentials = credentialsOf(d);
      } catch {
        return; // unreadable: nothing to revoke from here
      }
      if (credentials.kind !== 'oauth') return;
      // Best effort, at the login host it was connected with: the destination is deleted whatever the answer. Intercom
      // has no revoke endpoint (its client sends nothing): the token is forgotten with the row.
      await client.revoke(credentials.refreshToken).catch((e: unknown) => {
        logger.warn({ destination: d.id, kind: d.kind, error: e instanceof Error ? e.message : 'error' }, 'OAuth refresh token not revoked');
      });
    },
  };
  return { pusher, service };
}

function toConnection(install: Install): HubSpotConnection {
  return {
    portalId: install.portalId,
    hubDomain: install.hubDomain,
    connectedAt: (install.createdAt ?? new Date()).toISOString(),
    kind: install.kind,
  };
}
