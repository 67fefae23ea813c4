import type { Request, Response } from 'express';
import { z } from 'zod';
import { modeOf, tenantOf } from './auth';
import type { AppApiDeps } from './services';
import {
  EVENT_OUTCOMES,
  failedEvents,
  openDeadLetters,
  outcomeCounts24h,
  recentEvents,
  replayDeadLetters,
  replayFailedEvents,
} from '../../adapters/store/activity-store';
import type { JobQueue } from '../../queue/job-queue';
import type { ActivityResponse, EventOutcome, ReplayResponse } from '@stripe-hubspot-sync/contracts';
import { sendError } from '../respond';

/** The app API's deps plus the event queue, to process failed events again. */
export interface ActivityDeps extends AppApiDeps {
  queue?: Pick<JobQueue, 'eventJobsFrom' | 'notifyWorker'>;
}

/** GET /activity?mode=&outcome=&limit= */
export function getActivity(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const outcome = req.query.outcome as string | undefined;
    if (outcome !== undefined && !EVENT_OUTCOMES.includes(outcome as EventOutcome)) {
      return sendError(res, 400, 'bad_request', `outcome must be one of ${EVENT_OUTCOMES.join(', ')}`);
    }
    const limit = Math.min(200, Math.max(1, Number(req.query.limit ?? 50) || 50));
    const account = tenantOf(res).accountKey;
    const livemode = mode === 'live';
    const [counts24h, events, deadLetters, failed] = await Promise.all([
      outcomeCounts24h(deps.db, account, livemode),
      recentEvents(deps.db, account, livemode, { outcome: outcome as EventOutcome | undefined, limit }),
      openDeadLetters(deps.db, account, livemode),
      failedEvents(deps.db, account, livemode),
    ]);
    const body: ActivityResponse = { mode, counts24h, events, deadLetters, failedEvents: failed };
    res.json(body);
  };
}

const replayBody = z.union([
  z.object({ mode: z.enum(['test', 'live']), ids: z.array(z.string().max(32)).min(1).max(1000) }),
  z.object({ mode: z.enum(['test', 'live']), all: z.literal(true) }),
]);

/** POST /dead-letters/replay — one, several, or all dead letters of this account and mode. */
export function postReplay(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const body = replayBody.safeParse(req.body);
    if (!body.success) return sendError(res, 400, 'bad_request', 'Send {mode, ids:[…]} or {mode, all:true}');
    const replayed = await replayDeadLetters(
      deps.db,
      tenantOf(res).accountKey,
      body.data.mode === 'live',
      'all' in body.data ? 'all' : body.data.ids,
    );
    if (replayed > 0) deps.wakePusher();
    res.json({ replayed });
  };
}

const replayEventsBody = z.union([
  z.object({ mode: z.enum(['test', 'live']), ids: z.array(z.string().min(1).max(255)).min(1).max(1000) }),
  z.object({ mode: z.enum(['test', 'live']), all: z.literal(true) }),
]);

/** POST /events/replay — one, several, or all failed events of this account and mode, processed again. */
export function postReplayEvents(deps: ActivityDeps) {
  return async (req: Request, res: Response) => {
    const body = replayEventsBody.safeParse(req.body);
    if (!body.success) return sendError(res, 400, 'bad_request', 'Send {mode, ids:[…]} or {mode, all:true}');
    const queue = deps.queue;
    if (!queue) return sendError(res, 503, 'not_configured', 'Replaying events is not available on this backend');
    const replayed = await replayFailedEvents(
      deps.db,
      tenantOf(res).accountKey,
      body.data.mode === 'live',
      'all' in body.data ? 'all' : body.data.ids,
      (source) => queue.eventJobsFrom(source),
    );
    if (replayed > 0) queue.notifyWorker();
    const answer: ReplayResponse = { replayed };
    res.json(answer);
  };
}
