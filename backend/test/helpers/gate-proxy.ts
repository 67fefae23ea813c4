import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on 127.0.0.1 in front of a loopback fake that can hold chosen requests until the test lets them
 * go: a HubSpot call that is "in flight" for exactly as long as the test needs, with no timing involved.
 */

export interface Gate {
  /** Resolves when the first matching request is being held. */
  arrived: Promise<void>;
  /** How many matching requests arrived so far. */
  count(): number;
  /** Lets every held and later matching request through. */
  release(): void;
}

export interface GateProxy {
  url: string;
  /** Holds requests for which `match` is true (method, path without query, raw body) until released. */
  hold(match: (method: string, path: string, body: string) => boolean): Gate;
  close(): Promise<void>;
}

export async function startGateProxy(upstream: string): Promise<GateProxy> {
  const gates: { match: (m: string, p: string, b: string) => boolean; arrivedNow(): void; n: number; open: Promise<void> }[] = [];

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '/').split('?')[0]!;
      const method = req.method ?? 'GET';
      for (const g of gates.filter((x) => x.match(method, path, body))) {
        g.n += 1;
        g.arrivedNow();
        await g.open;
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
    hold(match) {
      let arrivedNow!: () => void;
      let release!: () => void;
      const arrived = new Promise<void>((r) => (arrivedNow = r));
      const open = new Promise<void>((r) => (release = r));
      const gate = { match, arrivedNow, n: 0, open };
      gates.push(gate);
      return {
        arrived,
        count: () => gate.n,
        release: () => {
          const at = gates.indexOf(gate);
          if (at >= 0) gates.splice(at, 1);
          release();
        },
      };
    },
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
