import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig, redactedConfig, type Config } from './config';
import { createLogger } from './logger';
import { startServer } from './server';
import { syncEngineServerOptions } from './sync/engine';
import { completenessPlugin } from './jobs/backfill/plugin';

/**
 * `npm start`: parse the configuration (a bad value prints which variable and exits 1), start the server, and
 * shut down cleanly on SIGTERM/SIGINT (exit 0). A second signal exits at once.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  if (!config.databaseUrl) {
    // The embedded database lives in this process: let V8's old generation grow only 10% past what survived its last
    // full collection (V8 picks up to 4x), which keeps a 10,000-customer backfill under 250 MB resident (issue 16).
    // Not on PostgreSQL: there the server's heap is small and the extra collections cost the ingest ~13% of its rate.
    setFlagsFromString('--heap-growing-percent=10');
  }
  logger.info({ config: redactedConfig(config) }, 'starting');
  if (config.nodeEnv === 'production' && !config.databaseUrl) {
    // Only with ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION=true (the config refuses it otherwise).
    logger.warn(
      { dataDir: config.dataDir },
      'production on the embedded database: it survives a process crash, not a power loss or kernel crash (PGlite cannot fsync); after an unclean stop the Stripe events since the last heartbeat are listed again (needs STRIPE_API_KEY)',
    );
  }

  let server;
  try {
    server = await startServer(config, { logger, ...syncEngineServerOptions({ plugins: [completenessPlugin()] }) });
  } catch (err) {
    logger.fatal({ err }, 'could not start');
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
