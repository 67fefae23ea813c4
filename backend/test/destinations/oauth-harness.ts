import pino from 'pino';
import type { ServerContext } from '../../src/server';

/**
 * What the destinations' OAuth tests share: a destination pusher that polls fast and retries soon, and a plugin
 * that keeps every log line the backend writes from its start (not printed), to look for tokens in them.
 */
export const FAST_DESTINATIONS = { pollMs: 50, settleMs: 20, retry: { baseMs: 100, maxMs: 400, maxAttempts: 50 } };

export function captureLogLines(lines: string[]): (ctx: ServerContext) => void {
  return (ctx) => {
    const stream = (ctx.logger as unknown as Record<symbol, { write(line: string): boolean }>)[pino.symbols.streamSym]!;
    stream.write = (line: string) => (lines.push(line), true);
  };
}
