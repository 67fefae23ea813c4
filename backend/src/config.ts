import { z } from 'zod';

/**
 * The backend's configuration: every environment variable, parsed once at boot by one zod schema.
 * A missing or invalid value throws a `ConfigError` naming every bad variable. Secrets have no defaults;
 * `redactedConfig` is the only form of the config that may be logged.
 */

export type Mode = 'test' | 'live';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  logLevel: LogLevel;
  /** The URL Stripe and HubSpot reach us at (no trailing slash). */
  publicUrl?: string;
  /** postgres://… → a PostgreSQL server; unset → embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  /** NODE_ENV=production on the embedded database (not power-loss safe) only when the operator says so. */
  allowEmbeddedDatabaseInProduction: boolean;
  databasePoolSize: number;
  stripe: {
    /** Webhook signing secrets (several during a secret roll); empty → the webhook route answers 503. */
    webhookSecrets: string[];
    webhookToleranceSeconds: number;
    apiKey?: string;
    apiBaseUrl?: string;
    appSecret?: string;
    appId?: string;
    /** The self-hosted merchant's own account id: its events come without `account`; the Stripe App maps it to them. */
    accountId?: string;
  };
  hubspot: {
    accessToken?: string;
    /** The portal of the private-app token; looked up from HubSpot when unset. */
    privateAppPortalId?: number;
    /** Which modes (test/live Stripe events) the private-app token serves. */
    privateAppModes: Mode[];
    clientId?: string;
    clientSecret?: string;
    /** Client secret of the self-hosted (private, static-auth) HubSpot app: verifies its card requests and webhooks. */
    cardClientSecret?: string;
    apiBaseUrl: string;
    rateLimitPer10s: number;
    /** The marketplace app's timeline event template (created with the app: README, "Revenue movements"). */
    timelineTemplateId?: string;
  };
  /** 32-byte key for encrypting stored OAuth tokens and destination API keys. */
  tokenEncryptionKey?: Buffer;
  /** Base URLs of the destinations beside HubSpot (a fake's in tests). */
  destinations: {
    klaviyoApiBaseUrl: string;
    loopsApiBaseUrl: string;
    /** Every Intercom workspace's API at this address instead of its region's (a fake in tests); unset: by region. */
    intercomApiBaseUrl?: string;
    /**
     * "Connect with Klaviyo" (OAuth, authorization code with PKCE) for the marketplace app: the Klaviyo app's client
     * credentials and the authorize page (Klaviyo's, a fake's in tests). Unset: Klaviyo is connected with an API key only.
     */
    klaviyoOAuth?: { clientId: string; clientSecret: string; authorizeUrl: string };
    /**
     * "Connect with Salesforce" (OAuth web server flow with PKCE): the connected app's consumer key and secret, and
     * the login hosts of production and sandbox orgs (Salesforce's, a fake's in tests). Unset: Salesforce cannot be
     * connected (it has no API key).
     */
    salesforceOAuth?: { clientId: string; clientSecret: string; loginUrl: string; sandboxLoginUrl: string };
    /**
     * "Connect with Intercom" (OAuth for a public Intercom app; Intercom documents no PKCE): the app's client id and
     * secret, and the authorize page for every region instead of the region's (a fake's in tests; unset: app.intercom.com,
     * app.eu.intercom.com, app.au.intercom.com). Tokens are exchanged at the region's API host, or
     * `intercomApiBaseUrl`. Unset: Intercom is connected with an access token only.
     */
    intercomOAuth?: { clientId: string; clientSecret: string; authorizeUrl?: string };
  };
  queue: {
    /** A job held longer than this by a worker (e.g. one that crashed) is failed and retried. */
    expireSeconds: number;
    retryLimit: number;
    workerBatchSize: number;
    /** Acknowledgements per second above which the worker yields to the webhook route (0: never). */
    ingestPriorityRate: number;
    /** Longest one worker batch waits for the webhook route to quieten (default 1000 ms on PostgreSQL, 250 embedded). */
    ingestPriorityMaxDeferMs: number;
    /**
     * Longest a destination pass (Klaviyo, Loops, Intercom, Salesforce) waits while this instance is acknowledging a
     * flood or its event worker has a backlog (0: never waits). HubSpot's writes never wait on it.
     */
    destinationYieldMaxMs: number;
  };
  shutdownTimeoutMs: number;
  recoveryIntervalMinutes: number;
  /** Events: how long payloads of settled events are kept, and when an event with no job counts as stuck. */
  events: {
    retentionDays: number;
    stuckMinutes: number;
  };
  /** Abuse limits: failed signatures per IP per minute (0: no limit), and the HubSpot card's refresh interval. */
  limits: {
    signatureFailuresPerMinute: number;
    cardRefreshMinIntervalSeconds: number;
  };
}

export class ConfigError extends Error {
  constructor(
    message: string,
    /** The names of the bad variables. */
    readonly variables: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

const optionalString = z.string().trim().min(1).optional();
const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);
const url = z
  .string()
  .trim()
  .refine((v) => /^https?:\/\/[^\s/]+/.test(v) && URL.canParse(v), 'must be an http(s) URL')
  .transform((v) => v.replace(/\/+$/, ''));
const commaList = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3000, 0, 65_535),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  PUBLIC_URL: url.optional(),
  DATABASE_URL: z
    .string()
    .trim()
    .refine((v) => /^postgres(ql)?:\/\//.test(v) && URL.canParse(v), 'must be a postgres:// URL')
    .optional(),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  DATABASE_POOL_SIZE: int(10, 1, 1000),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .transform(commaList)
    .refine((list) => list.every((s) => s.startsWith('whsec_') && !/\s/.test(s)), 'each secret must start with whsec_')
    .optional(),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: int(300, 1, 86_400),
  STRIPE_API_KEY: z
    .string()
    .trim()
    .refine((v) => /^(sk|rk)_(test|live)_/.test(v), 'must be a secret key (sk_… or rk_…)')
    .optional(),
  STRIPE_API_BASE_URL: url.optional(),
  STRIPE_APP_SECRET: z
    .string()
    .trim()
    .refine((v) => v.startsWith('absec_'), 'must be the app signing secret (absec_…)')
    .optional(),
  STRIPE_APP_ID: optionalString,
  STRIPE_ACCOUNT_ID: z.string().trim().regex(/^acct_[A-Za-z0-9]+$/, 'must be a Stripe account id (acct_…)').optional(),
  HUBSPOT_ACCESS_TOKEN: optionalString,
  HUBSPOT_PRIVATE_APP_PORTAL_ID: z.coerce.number().int().positive().optional(),
  HUBSPOT_PRIVATE_APP_MODES: z
    .string()
    .default('test,live')
    .transform(commaList)
    .pipe(z.array(z.enum(['test', 'live'])).min(1, 'list test, live or both')),
  HUBSPOT_CLIENT_ID: optionalString,
  HUBSPOT_CLIENT_SECRET: optionalString,
  HUBSPOT_CARD_CLIENT_SECRET: z.string().trim().regex(/^\S{8,}$/, "must be the HubSpot app's client secret (8 or more characters, no spaces)").optional(),
  HUBSPOT_API_BASE_URL: url.default('https://api.hubapi.com'),
  KLAVIYO_API_BASE_URL: url.default('https://a.klaviyo.com'),
  KLAVIYO_CLIENT_ID: optionalString,
  KLAVIYO_CLIENT_SECRET: optionalString,
  KLAVIYO_AUTHORIZE_URL: url.default('https://www.klaviyo.com/oauth/authorize'),
  SALESFORCE_CLIENT_ID: optionalString,
  SALESFORCE_CLIENT_SECRET: optionalString,
  SALESFORCE_LOGIN_URL: url.default('https://login.salesforce.com'),
  SALESFORCE_SANDBOX_LOGIN_URL: url.default('https://test.salesforce.com'),
  LOOPS_API_BASE_URL: url.default('https://app.loops.so'),
  INTERCOM_API_BASE_URL: url.optional(),
  INTERCOM_CLIENT_ID: optionalString,
  INTERCOM_CLIENT_SECRET: optionalString,
  INTERCOM_OAUTH_URL: url.optional(),
  HUBSPOT_RATE_LIMIT_PER_10S: int(100, 1, 10_000),
  HUBSPOT_TIMELINE_TEMPLATE_ID: z.string().trim().regex(/^\d{1,20}$/, 'must be the numeric id of the app’s timeline event template').optional(),
  TOKEN_ENCRYPTION_KEY: z
    .string()
    .trim()
    .transform((v, ctx) => {
      const key = parseKey(v);
      if (!key) {
        ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, as 64 hex characters or base64' });
        return z.NEVER;
      }
      return key;
    })
    .optional(),
  QUEUE_EXPIRE_SECONDS: int(60, 1, 3600),
  QUEUE_RETRY_LIMIT: int(10, 0, 100),
  WORKER_BATCH_SIZE: int(100, 1, 1000),
  INGEST_PRIORITY_RATE: int(200, 0, 1_000_000),
  // Default 1000 on PostgreSQL, 250 on the embedded database (see toConfig).
  INGEST_PRIORITY_MAX_DEFER_MS: z.coerce.number().int().min(0).max(60_000).optional(),
  DESTINATION_YIELD_MAX_MS: int(5_000, 0, 60_000),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 0, 600_000),
  RECOVERY_INTERVAL_MINUTES: int(60, 1, 10_080),
  EVENT_RETENTION_DAYS: int(30, 1, 3650),
  STUCK_EVENT_MINUTES: int(10, 1, 10_080),
  SIGNATURE_FAILURES_PER_MINUTE: int(30, 0, 1_000_000),
  CARD_REFRESH_MIN_INTERVAL_SECONDS: int(60, 0, 86_400),
});

type Env = z.infer<typeof envSchema>;

/** Rules between variables, on the raw values (so they are reported even when another variable is invalid). */
function crossChecks(input: Record<string, string>): [string, string][] {
  const problems: [string, string][] = [];
  const has = (name: string) => input[name] !== undefined;
  if (input.NODE_ENV?.trim() === 'production' && !(input.STRIPE_WEBHOOK_SECRET && commaList(input.STRIPE_WEBHOOK_SECRET).length > 0)) {
    problems.push(['STRIPE_WEBHOOK_SECRET', 'is required when NODE_ENV=production']);
  }
  if (input.NODE_ENV?.trim() === 'production' && !has('DATABASE_URL') && input.ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION?.trim() !== 'true') {
    problems.push([
      'DATABASE_URL',
      'is required when NODE_ENV=production: the embedded database (PGlite) cannot fsync, so an acknowledged webhook can be lost on a power loss or kernel crash; set ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION=true to run on it anyway',
    ]);
  }
  if (has('HUBSPOT_CLIENT_ID') !== has('HUBSPOT_CLIENT_SECRET')) {
    const missing = has('HUBSPOT_CLIENT_ID') ? 'HUBSPOT_CLIENT_SECRET' : 'HUBSPOT_CLIENT_ID';
    problems.push([missing, 'HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET go together']);
  }
  if (has('HUBSPOT_CARD_CLIENT_SECRET') && !has('HUBSPOT_ACCESS_TOKEN')) {
    problems.push(['HUBSPOT_CARD_CLIENT_SECRET', 'needs HUBSPOT_ACCESS_TOKEN (the self-hosted card reads the private-app token’s portal)']);
  }
  if (has('HUBSPOT_CLIENT_ID') && has('HUBSPOT_CLIENT_SECRET') && !has('TOKEN_ENCRYPTION_KEY')) {
    problems.push(['TOKEN_ENCRYPTION_KEY', 'is required when HubSpot OAuth is configured']);
  }
  if (has('KLAVIYO_CLIENT_ID') !== has('KLAVIYO_CLIENT_SECRET')) {
    const missing = has('KLAVIYO_CLIENT_ID') ? 'KLAVIYO_CLIENT_SECRET' : 'KLAVIYO_CLIENT_ID';
    problems.push([missing, 'KLAVIYO_CLIENT_ID and KLAVIYO_CLIENT_SECRET go together']);
  }
  if (has('KLAVIYO_CLIENT_ID') && has('KLAVIYO_CLIENT_SECRET') && !has('TOKEN_ENCRYPTION_KEY')) {
    problems.push(['TOKEN_ENCRYPTION_KEY', 'is required when Klaviyo OAuth is configured']);
  }
  if (has('SALESFORCE_CLIENT_ID') !== has('SALESFORCE_CLIENT_SECRET')) {
    const missing = has('SALESFORCE_CLIENT_ID') ? 'SALESFORCE_CLIENT_SECRET' : 'SALESFORCE_CLIENT_ID';
    problems.push([missing, 'SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET go together']);
  }
  if (has('SALESFORCE_CLIENT_ID') && has('SALESFORCE_CLIENT_SECRET') && !has('TOKEN_ENCRYPTION_KEY')) {
    problems.push(['TOKEN_ENCRYPTION_KEY', 'is required when Salesforce OAuth is configured']);
  }
  if (has('INTERCOM_CLIENT_ID') !== has('INTERCOM_CLIENT_SECRET')) {
    const missing = has('INTERCOM_CLIENT_ID') ? 'INTERCOM_CLIENT_SECRET' : 'INTERCOM_CLIENT_ID';
    problems.push([missing, 'INTERCOM_CLIENT_ID and INTERCOM_CLIENT_SECRET go together']);
  }
  if (has('INTERCOM_CLIENT_ID') && has('INTERCOM_CLIENT_SECRET') && !has('TOKEN_ENCRYPTION_KEY')) {
    problems.push(['TOKEN_ENCRYPTION_KEY', 'is required when Intercom OAuth is configured']);
  }
  return problems;
}

/** The variables `loadConfig` reads (the ones documented in `.env.example`). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape) as (keyof Env)[];

/** Parses the environment. Empty values count as unset. Throws a `ConfigError` naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const name of CONFIG_VARIABLES) {
    const v = env[name];
    if (v !== undefined && v.trim() !== '') input[name] = v;
  }
  const parsed = envSchema.safeParse(input);
  const issues: [string, string][] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => [String(issue.path[0] ?? 'environment'), issue.message]);
  issues.push(...crossChecks(input));
  if (!parsed.success || issues.length > 0) {
    const problems = new Map<string, string[]>();
    for (const [name, message] of issues) problems.set(name, [...(problems.get(name) ?? []), message]);
    const lines = [...problems].map(([name, msgs]) => `  ${name}: ${msgs.join('; ')}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`, [...problems.keys()]);
  }
  return toConfig(parsed.data as Env);
}

function toConfig(e: Env): Config {
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    publicUrl: e.PUBLIC_URL,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    allowEmbeddedDatabaseInProduction: e.ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    stripe: {
      webhookSecrets: e.STRIPE_WEBHOOK_SECRET ?? [],
      webhookToleranceSeconds: e.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
      apiKey: e.STRIPE_API_KEY,
      apiBaseUrl: e.STRIPE_API_BASE_URL,
      appSecret: e.STRIPE_APP_SECRET,
      appId: e.STRIPE_APP_ID,
      accountId: e.STRIPE_ACCOUNT_ID,
    },
    hubspot: {
      accessToken: e.HUBSPOT_ACCESS_TOKEN,
      privateAppPortalId: e.HUBSPOT_PRIVATE_APP_PORTAL_ID,
      privateAppModes: e.HUBSPOT_PRIVATE_APP_MODES,
      clientId: e.HUBSPOT_CLIENT_ID,
      clientSecret: e.HUBSPOT_CLIENT_SECRET,
      cardClientSecret: e.HUBSPOT_CARD_CLIENT_SECRET,
      apiBaseUrl: e.HUBSPOT_API_BASE_URL,
      rateLimitPer10s: e.HUBSPOT_RATE_LIMIT_PER_10S,
      timelineTemplateId: e.HUBSPOT_TIMELINE_TEMPLATE_ID,
    },
    tokenEncryptionKey: e.TOKEN_ENCRYPTION_KEY,
    destinations: {
      klaviyoApiBaseUrl: e.KLAVIYO_API_BASE_URL,
      loopsApiBaseUrl: e.LOOPS_API_BASE_URL,
      intercomApiBaseUrl: e.INTERCOM_API_BASE_URL,
      klaviyoOAuth:
        e.KLAVIYO_CLIENT_ID && e.KLAVIYO_CLIENT_SECRET
          ? { clientId: e.KLAVIYO_CLIENT_ID, clientSecret: e.KLAVIYO_CLIENT_SECRET, authorizeUrl: e.KLAVIYO_AUTHORIZE_URL }
          : undefined,
      salesforceOAuth:
        e.SALESFORCE_CLIENT_ID && e.SALESFORCE_CLIENT_SECRET
          ? {
              clientId: e.SALESFORCE_CLIENT_ID,
              clientSecret: e.SALESFORCE_CLIENT_SECRET,
              loginUrl: e.SALESFORCE_LOGIN_URL,
              sandboxLoginUrl: e.SALESFORCE_SANDBOX_LOGIN_URL,
            }
          : undefined,
      intercomOAuth:
        e.INTERCOM_CLIENT_ID && e.INTERCOM_CLIENT_SECRET
          ? { clientId: e.INTERCOM_CLIENT_ID, clientSecret: e.INTERCOM_CLIENT_SECRET, ...(e.INTERCOM_OAUTH_URL ? { authorizeUrl: e.INTERCOM_OAUTH_URL } : {}) }
          : undefined,
    },
    queue: {
      expireSeconds: e.QUEUE_EXPIRE_SECONDS,
      retryLimit: e.QUEUE_RETRY_LIMIT,
      workerBatchSize: e.WORKER_BATCH_SIZE,
      ingestPriorityRate: e.INGEST_PRIORITY_RATE,
      // On the embedded database the connection's gate already puts acknowledgements first at every statement
      // (db-gate.ts); waiting on top of it only delays the other merchants' changes (bench fairness).
      ingestPriorityMaxDeferMs: e.INGEST_PRIORITY_MAX_DEFER_MS ?? (e.DATABASE_URL ? 1000 : 250),
      destinationYieldMaxMs: e.DESTINATION_YIELD_MAX_MS,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    recoveryIntervalMinutes: e.RECOVERY_INTERVAL_MINUTES,
    events: { retentionDays: e.EVENT_RETENTION_DAYS, stuckMinutes: e.STUCK_EVENT_MINUTES },
    limits: {
      signatureFailuresPerMinute: e.SIGNATURE_FAILURES_PER_MINUTE,
      cardRefreshMinIntervalSeconds: e.CARD_REFRESH_MIN_INTERVAL_SECONDS,
    },
  };
}

function parseKey(v: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) {
    const b = Buffer.from(v, 'base64');
    if (b.length === 32) return b;
  }
  return undefined;
}

const SET = '[set]';

/** The config with every secret replaced by `[set]` (or left undefined), and credentials removed from URLs: safe to log. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const mark = (v: unknown) => (v === undefined ? undefined : SET);
  return withoutUndefined({
    ...config,
    databaseUrl: config.databaseUrl ? redactUrl(config.databaseUrl) : undefined,
    stripe: {
      ...config.stripe,
      webhookSecrets: config.stripe.webhookSecrets.map(() => SET),
      apiKey: mark(config.stripe.apiKey),
      appSecret: mark(config.stripe.appSecret),
    },
    hubspot: {
      ...config.hubspot,
      accessToken: mark(config.hubspot.accessToken),
      clientSecret: mark(config.hubspot.clientSecret),
      cardClientSecret: mark(config.hubspot.cardClientSecret),
    },
    destinations: {
      ...config.destinations,
      klaviyoOAuth: config.destinations.klaviyoOAuth && { ...config.destinations.klaviyoOAuth, clientSecret: SET },
      salesforceOAuth: config.destinations.salesforceOAuth && { ...config.destinations.salesforceOAuth, clientSecret: SET },
      intercomOAuth: config.destinations.intercomOAuth && { ...config.destinations.intercomOAuth, clientSecret: SET },
    },
    tokenEncryptionKey: mark(config.tokenEncryptionKey),
  });
}

function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function redactUrl(raw: string): string {
  const u = new URL(raw);
  if (u.password) u.password = '***';
  return u.toString();
}
