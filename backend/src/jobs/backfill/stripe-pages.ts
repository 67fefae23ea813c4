import type Stripe from 'stripe';
import { asAccount } from '../../adapters/stripe/client';
import type { Phase } from './progress';
import { abortableSleep, type SlidingWindowLimiter } from './rate-limiter';

/**
 * One page of a backfill phase from the Stripe API (newest first, `starting_after` pagination), through the
 * run's rate limiter. Rate limits (429), Stripe 5xx and network errors are retried with exponential backoff
 * and jitter, each attempt taking a limiter slot (the SDK's own retries are off: they would bypass it).
 */

export interface PageRequest {
  phase: Phase;
  /** '' = the API key's own account; otherwise a connected account (`Stripe-Account`). */
  account: string;
  cursor: string | null;
  /** List only objects created at or before this (after a cursor disappeared). */
  createdLte: number | null;
  limit: number;
}

export interface StripePage {
  objects: Record<string, unknown>[];
  hasMore: boolean;
  /** When the request started (unix seconds): the version the page's facts get. */
  readAt: number;
}

export interface RetryOptions {
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** The `starting_after` object no longer exists at Stripe: continue the phase by `created` instead. */
export class CursorGoneError extends Error {
  constructor(readonly cursor: string) {
    super(`the list cursor ${cursor} no longer exists`);
    this.name = 'CursorGoneError';
  }
}

/** A failure retrying will not fix (authentication, permissions, a bad request): the run fails with it. */
export class PermanentStripeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentStripeError';
  }
}

export type Lister = (params: Record<string, unknown>, options: Stripe.RequestOptions) => Promise<{ data: unknown[]; has_more: boolean }>;

function listerOf(stripe: Stripe, phase: Phase): Lister {
  switch (phase) {
    case 'customers':
      return (p, o) => stripe.customers.list(p, o);
    case 'subscriptions':
      return (p, o) => stripe.subscriptions.list({ ...p, status: 'all' }, o);
    case 'invoices':
      return (p, o) => stripe.invoices.list(p, o);
    case 'charges':
      return (p, o) => stripe.charges.list({ ...p, expand: ['data.refunds'] }, o); // refunds: when each was issued
  }
}

interface StripeErrorLike {
  type?: string;
  statusCode?: number;
  code?: string;
  param?: string;
  message?: string;
  headers?: Record<string, string>;
}

function classify(err: unknown): 'retry' | 'cursor' | 'permanent' {
  const e = (err ?? {}) as StripeErrorLike;
  if (e.type === 'StripeConnectionError' || e.type === 'StripeRateLimitError' || e.type === 'StripeAPIError') return 'retry';
  if (e.statusCode === 429 || (e.statusCode !== undefined && e.statusCode >= 500)) return 'retry';
  if (e.code === 'resource_missing' && (e.param === 'starting_after' || /starting_after/.test(e.message ?? ''))) return 'cursor';
  if (e.statusCode !== undefined || (e.type ?? '').startsWith('Stripe')) return 'permanent';
  // Not a Stripe error (e.g. a socket reset surfaced as a plain Error): retry.
  return 'retry';
}

export async function readPage(
  stripe: Stripe,
  req: PageRequest,
  limiter: SlidingWindowLimiter,
  signal: AbortSignal,
  retry: RetryOptions = {},
): Promise<StripePage> {
  const params: Record<string, unknown> = { limit: req.limit };
  if (req.cursor) params.starting_after = req.cursor;
  if (req.createdLte !== null) params.created = { lte: req.createdLte };
  return listWithRetries(listerOf(stripe, req.phase), params, req, limiter, signal, retry);
}

/**
 * One list request (any Stripe list: `lister`) through `limiter`, retried on 429, 5xx and network errors.
 * `what.cursor` set: a vanished cursor is a `CursorGoneError`. Other Stripe errors are `PermanentStripeError`s.
 */
export async function listWithRetries(
  lister: Lister,
  params: Record<string, unknown>,
  what: { phase: string; account: string; cursor?: string | null },
  limiter: SlidingWindowLimiter,
  signal: AbortSignal,
  retry: RetryOptions = {},
): Promise<StripePage> {
  const maxAttempts = retry.maxAttempts ?? 8;
  const base = retry.baseDelayMs ?? 500;
  const cap = retry.maxDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    await limiter.acquire(signal);
    const startedMs = Date.now();
    try {
      const res = await lister(params, asAccount(what.account));
      signal.throwIfAborted();
      return { objects: res.data as Record<string, unknown>[], hasMore: res.has_more, readAt: Math.floor(startedMs / 1000) };
    } catch (err) {
      signal.throwIfAborted();
      const kind = classify(err);
      if (kind === 'cursor' && what.cursor) throw new CursorGoneError(what.cursor);
      const message = (err as StripeErrorLike)?.message ?? String(err);
      if (kind !== 'retry') throw new PermanentStripeError(`Stripe refused to list ${what.phase}: ${message}`);
      if (attempt >= maxAttempts) throw new Error(`Stripe did not answer the ${what.phase} list after ${attempt} attempts: ${message}`);
      const delay = Math.min(cap, base * 2 ** (attempt - 1));
      await abortableSleep(delay / 2 + Math.random() * (delay / 2), signal);
    }
  }
}
