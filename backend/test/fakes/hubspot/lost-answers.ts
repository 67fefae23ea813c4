import type { ServerResponse } from 'node:http';
import type { HandlerResult } from './errors';
import type { RecordedRequest } from './types';

/**
 * Injection "applied, but the answer is lost": the fake handles the request in full (the write lands) and then the
 * caller never hears it — the connection is reset (a network error), or a gateway answers 502/504 in HubSpot's
 * place. What a load balancer timing out, a dropped connection or a crash between HubSpot's commit and its answer
 * looks like from our side. Only successful answers (2xx) are lost: a refused request changed nothing.
 *
 * ```ts
 * loseAnswers(fake, 1, { method: 'POST', pathPrefix: '/crm/v3/objects/tasks', as: 'reset' });
 * ```
 *
 * Rules are consumed in order, one per lost answer; `clearLostAnswers(fake)` drops those left.
 */

export interface LostAnswerOptions {
  method?: string;
  /** Only requests whose path starts with this. */
  pathPrefix?: string;
  /** `reset` (default): the socket is destroyed, no answer; a number: that status with a gateway's body. */
  as?: 'reset' | number;
}

interface Rule extends LostAnswerOptions {
  remaining: number;
}

/** Rules by the fake's `requests` list (one per fake server, and what a test holds as `fake.requests`). */
const rules = new WeakMap<RecordedRequest[], Rule[]>();

/** The next `count` matching requests are applied and their answers lost. */
export function loseAnswers(fake: { requests: RecordedRequest[] }, count: number, opts: LostAnswerOptions = {}): void {
  if (count <= 0) return;
  const list = rules.get(fake.requests) ?? [];
  list.push({ ...opts, remaining: count });
  rules.set(fake.requests, list);
}

export function clearLostAnswers(fake: { requests: RecordedRequest[] }): void {
  rules.delete(fake.requests);
}

/** Called by the server once a request was handled: true when its answer is to be lost (and was, here). */
export function answerLost(requests: RecordedRequest[], record: RecordedRequest, res: ServerResponse, result: HandlerResult): boolean {
  if (result.status < 200 || result.status >= 300) return false;
  const list = rules.get(requests);
  const rule = list?.find(
    (r) => (r.method === undefined || r.method.toUpperCase() === record.method) && (r.pathPrefix === undefined || record.path.startsWith(r.pathPrefix)),
  );
  if (!list || !rule) return false;
  rule.remaining -= 1;
  if (rule.remaining <= 0) list.splice(list.indexOf(rule), 1);
  const as = rule.as ?? 'reset';
  if (as === 'reset') {
    record.status = 0;
    res.socket?.destroy();
    return true;
  }
  record.status = as;
  const body = JSON.stringify({ status: 'error', message: `The upstream server did not answer in time (${as})`, category: 'UPSTREAM_ERROR' });
  res.writeHead(as, { 'content-type': 'application/json' }).end(body);
  return true;
}
