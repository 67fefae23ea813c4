import { DestinationError } from '../../domain/destinations/port';

/**
 * What the destination adapters that speak JSON over HTTP (Intercom, Loops, Salesforce) share: one request with a
 * bearer token and a JSON body, its answer parsed (null when it is not JSON), and the retries of a request that got
 * no answer or a 5xx. Each adapter keeps its own rate handling and its reading of the vendor's errors.
 */

export interface JsonRequest {
  method: string;
  token: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
}

export interface JsonAnswer {
  res: Response;
  /** The parsed body; null when empty or not JSON. */
  body: unknown;
}

/** Sends one request; throws what `fetch` throws when no answer comes (see `Failures.noAnswer`). */
export async function sendJson(url: URL | string, req: JsonRequest): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method: req.method,
    headers: {
      authorization: `Bearer ${req.token}`,
      accept: 'application/json',
      ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...req.headers,
    },
    body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
    signal: AbortSignal.timeout(req.timeoutMs),
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { res, body };
}

/**
 * The failed attempts of one call (`vendor` and `what` name it in errors): after each, a wait of `backoffMs` times
 * the failures so far; at the `attempts`-th the call fails as retryable (the pusher tries again later).
 */
export class Failures {
  private failed = 0;

  constructor(
    private readonly vendor: string,
    private readonly what: string,
    private readonly opts: { attempts: number; backoffMs: number; timeoutMs: number },
  ) {}

  /** No answer (timeout, refused or reset connection): waits, or throws once the attempts are spent. */
  async noAnswer(err: unknown): Promise<void> {
    const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.opts.timeoutMs} ms` : 'the connection failed';
    await this.next(() => new DestinationError('retryable', `${this.vendor} ${this.what}: ${why}`));
  }

  /** A 5xx answer, with the vendor's message when it gave one: waits, or throws once the attempts are spent. */
  async serverError(status: number, message: string | null): Promise<void> {
    await this.next(() => new DestinationError('retryable', `${this.vendor} ${this.what}: ${status}${message ? ` ${message}` : ''}`, { status }));
  }

  private async next(error: () => DestinationError): Promise<void> {
    if (++this.failed >= this.opts.attempts) throw error();
    await new Promise<void>((r) => setTimeout(r, this.opts.backoffMs * this.failed));
  }
}
