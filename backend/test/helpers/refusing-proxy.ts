import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on 127.0.0.1 in front of a loopback fake that answers chosen requests itself (a refusal the fake
 * does not model, e.g. a HubSpot product limit) and passes every other request through unchanged.
 */

export interface Refusal {
  status: number;
  body: unknown;
}

export interface RefusingProxy {
  url: string;
  /**
   * Requests for which `match` is true (method, path without query, the `authorization` header) get `answer`
   * instead of the upstream's; the first matching rule wins.
   */
  refuse(match: (method: string, path: string, authorization: string) => boolean, answer: Refusal): void;
  /** How many requests were refused so far. */
  refused(): number;
  close(): Promise<void>;
}

export async function startRefusingProxy(upstream: string): Promise<RefusingProxy> {
  const rules: { match: (m: string, p: string, a: string) => boolean; answer: Refusal }[] = [];
  let refusedCount = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const method = req.method ?? 'GET';
      const path = (req.url ?? '/').split('?')[0]!;
      const rule = rules.find((r) => r.match(method, path, req.headers.authorization ?? ''));
      if (rule) {
        refusedCount += 1;
        res.writeHead(rule.answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(rule.answer.body));
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)) headers[k] = v;
      }
      const answer = await fetch(`${upstream}${req.url ?? '/'}`, { method, headers, body: body.length > 0 ? body : undefined });
      const text = await answer.text();
      const out: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) out[k] = v;
      });
      res.writeHead(answer.status, out).end(text);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refuse: (match, answer) => void rules.push({ match, answer }),
    refused: () => refusedCount,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
