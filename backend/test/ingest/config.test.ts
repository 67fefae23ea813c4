import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig, redactedConfig } from '../../src/config';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('starts with no environment at all (a fresh clone): defaults, no webhook secret', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      host: '127.0.0.1',
      logLevel: 'info',
      dataDir: './data',
      databasePoolSize: 10,
      stripe: { webhookSecrets: [], webhookToleranceSeconds: 300 },
      hubspot: { privateAppModes: ['test', 'live'], apiBaseUrl: 'https://api.hubapi.com', rateLimitPer10s: 100 },
      queue: { expireSeconds: 60, retryLimit: 10, workerBatchSize: 100 },
      shutdownTimeoutMs: 10_000,
      recoveryIntervalMinutes: 60,
    });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.tokenEncryptionKey).toBeUndefined();
  });

  it('parses every variable', () => {
    const key = 'ab'.repeat(32);
    const c = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u:p@db:5432/x',
      STRIPE_WEBHOOK_SECRET: 'whsec_a, whsec_b',
      STRIPE_API_BASE_URL: 'http://127.0.0.1:12111/',
      HUBSPOT_PRIVATE_APP_MODES: 'live',
      HUBSPOT_CLIENT_ID: 'id',
      HUBSPOT_CLIENT_SECRET: 'secret',
      TOKEN_ENCRYPTION_KEY: key,
      QUEUE_EXPIRE_SECONDS: '5',
      PUBLIC_URL: 'https://sync.example.com/',
    });
    expect(c.port).toBe(8080);
    expect(c.stripe.webhookSecrets).toEqual(['whsec_a', 'whsec_b']);
    expect(c.stripe.apiBaseUrl).toBe('http://127.0.0.1:12111');
    expect(c.publicUrl).toBe('https://sync.example.com');
    expect(c.hubspot.privateAppModes).toEqual(['live']);
    expect(c.tokenEncryptionKey).toEqual(Buffer.from(key, 'hex'));
    expect(loadConfig({ TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }).tokenEncryptionKey).toEqual(
      Buffer.alloc(32, 7),
    );
    expect(c.queue.expireSeconds).toBe(5);
  });

  it('names every bad variable in one error', () => {
    const err = configError({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', WORKER_BATCH_SIZE: '0' });
    expect(err.variables.sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT', 'WORKER_BATCH_SIZE']);
    for (const v of err.variables) expect(err.message).toContain(v);
  });

  it('requires the webhook secret in production, and OAuth settings together with an encryption key', () => {
    expect(configError({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x' }).variables).toEqual(['STRIPE_WEBHOOK_SECRET']);
    expect(loadConfig({ NODE_ENV: 'production', STRIPE_WEBHOOK_SECRET: 'whsec_x', DATABASE_URL: 'postgres://db/x' }).stripe.webhookSecrets).toEqual(['whsec_x']);
    expect(configError({ HUBSPOT_CLIENT_ID: 'id' }).variables).toEqual(['HUBSPOT_CLIENT_SECRET']);
    expect(configError({ HUBSPOT_CLIENT_ID: 'id', HUBSPOT_CLIENT_SECRET: 's' }).variables).toEqual(['TOKEN_ENCRYPTION_KEY']);
    expect(configError({ TOKEN_ENCRYPTION_KEY: 'short' }).variables).toEqual(['TOKEN_ENCRYPTION_KEY']);
    expect(configError({ STRIPE_WEBHOOK_SECRET: 'sk_test_123' }).variables).toEqual(['STRIPE_WEBHOOK_SECRET']);
    expect(configError({ HUBSPOT_PRIVATE_APP_MODES: 'test,staging' }).variables).toEqual(['HUBSPOT_PRIVATE_APP_MODES']);
  });

  it('refuses production on the embedded database unless the operator opts in, naming the variable', () => {
    const prod = { NODE_ENV: 'production', STRIPE_WEBHOOK_SECRET: 'whsec_x' };
    const err = configError(prod);
    expect(err.variables).toEqual(['DATABASE_URL']);
    expect(err.message).toContain('ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION=true');
    expect(err.message).toMatch(/power loss/);
    expect(configError({ ...prod, ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION: 'false' }).variables).toEqual(['DATABASE_URL']);
    // Both problems of a bare production start are named at once.
    expect(configError({ NODE_ENV: 'production' }).variables.sort()).toEqual(['DATABASE_URL', 'STRIPE_WEBHOOK_SECRET']);
    const optedIn = loadConfig({ ...prod, ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION: 'true' });
    expect(optedIn).toMatchObject({ nodeEnv: 'production', dataDir: './data', allowEmbeddedDatabaseInProduction: true });
    expect(optedIn.databaseUrl).toBeUndefined();
    expect(loadConfig({ ...prod, DATABASE_URL: 'postgres://db/x' }).allowEmbeddedDatabaseInProduction).toBe(false);
    // Anything but true/false is refused rather than read as "no".
    expect(configError({ ...prod, ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION: 'yes' }).variables.sort()).toEqual([
      'ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION',
      'DATABASE_URL',
    ]);
    // Development and tests run on the embedded database without it.
    expect(loadConfig({}).allowEmbeddedDatabaseInProduction).toBe(false);
  });

  it('defers background work to a flood for at most 1 s on PostgreSQL and 250 ms on the embedded database unless set', () => {
    expect(loadConfig({}).queue.ingestPriorityMaxDeferMs).toBe(250);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x' }).queue.ingestPriorityMaxDeferMs).toBe(1000);
    expect(loadConfig({ INGEST_PRIORITY_MAX_DEFER_MS: '300' }).queue.ingestPriorityMaxDeferMs).toBe(300);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x', INGEST_PRIORITY_MAX_DEFER_MS: '0' }).queue.ingestPriorityMaxDeferMs).toBe(0);
  });

  it('lets destination passes wait at most 5 s for a flood or a backlog unless set; 0 never waits; refuses a negative or huge wait', () => {
    expect(loadConfig({}).queue.destinationYieldMaxMs).toBe(5000);
    expect(loadConfig({ DESTINATION_YIELD_MAX_MS: '0' }).queue.destinationYieldMaxMs).toBe(0);
    expect(loadConfig({ DESTINATION_YIELD_MAX_MS: '1500' }).queue.destinationYieldMaxMs).toBe(1500);
    expect(() => loadConfig({ DESTINATION_YIELD_MAX_MS: '-1' })).toThrow(/DESTINATION_YIELD_MAX_MS/);
    expect(() => loadConfig({ DESTINATION_YIELD_MAX_MS: '600000' })).toThrow(/DESTINATION_YIELD_MAX_MS/);
  });

  it('never shows a secret value in the redacted config or in an error message', () => {
    const secrets = {
      STRIPE_WEBHOOK_SECRET: 'whsec_topsecret1',
      STRIPE_API_KEY: 'sk_test_topsecret2',
      STRIPE_APP_SECRET: 'absec_topsecret3',
      HUBSPOT_ACCESS_TOKEN: 'pat-topsecret4',
      HUBSPOT_CLIENT_ID: 'client-id',
      HUBSPOT_CLIENT_SECRET: 'topsecret5',
      TOKEN_ENCRYPTION_KEY: 'cd'.repeat(32),
      DATABASE_URL: 'postgres://user:topsecret6@db/x',
    };
    const text = JSON.stringify(redactedConfig(loadConfig(secrets)));
    for (const v of Object.values(secrets).filter((v) => v.includes('topsecret'))) expect(text).not.toContain(v);
    expect(text).not.toContain('topsecret');
    expect(text).not.toContain('cd'.repeat(32));
    const err = configError({ ...secrets, PORT: 'x', STRIPE_API_KEY: 'pk_test_topsecret7' });
    expect(err.message).not.toContain('topsecret');
  });

  it('every variable is documented in .env.example', () => {
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect([...CONFIG_VARIABLES].sort()).toEqual([...documented].sort());
  });
});
