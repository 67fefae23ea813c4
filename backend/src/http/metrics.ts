import { Router } from 'express';
import type { Metrics } from '../metrics';

/** `GET /metrics`: the Prometheus text exposition of this instance's registry. */
export function metricsRouter(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const text = await metrics.registry.metrics();
    res.set('Content-Type', metrics.registry.contentType).send(text);
  });
  return router;
}
