import { Router } from 'express';
import type { Queryable } from '../adapters/store/db';
import { sendError } from './errors';

export type Lifecycle = 'starting' | 'ready' | 'stopping';

/** The server's lifecycle as `/healthz` reports it. */
export class Health {
  private state: Lifecycle = 'starting';
  get lifecycle(): Lifecycle {
    return this.state;
  }
  /** Database migrated, queue started, worker running. */
  markReady(): void {
    if (this.state === 'starting') this.state = 'ready';
  }
  markStopping(): void {
    this.state = 'stopping';
  }
}

const PING_TIMEOUT_MS = 2_000;

/**
 * `GET /healthz`: 200 `{status:'ok'}` once ready and the database answers; 503 `{error}` while starting,
 * while shutting down, or when the database does not answer within 2 s.
 */
export function healthzRouter(health: Health, db: Queryable): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    if (health.lifecycle === 'starting') return sendError(res, 503, 'service_unavailable', 'Starting.');
    if (health.lifecycle === 'stopping') {
      res.set('Connection', 'close');
      return sendError(res, 503, 'service_unavailable', 'Shutting down.');
    }
    const answered = await ping(db);
    if (!answered) return sendError(res, 503, 'service_unavailable', 'The database does not answer.');
    if (health.lifecycle !== 'ready') return sendError(res, 503, 'service_unavailable', 'Shutting down.');
    res.status(200).json({ status: 'ok' });
  });
  return router;
}

async function ping(db: Queryable): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([db.query('SELECT 1').then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
