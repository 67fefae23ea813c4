import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../../helpers/seeded-random';

/**
 * An HTTP proxy in front of the fake HubSpot that can lose answers: a contact batch write is passed on (HubSpot
 * applies it) and then answered 502 as a gateway would, so the caller cannot know the write happened. The
 * fake's own injections fail a request before it is applied; this is the other, nastier half of "5xx".
 */
export interface LossyProxy {
  url: string;
  /** Fraction of contact batch writes (create/update) whose answer is replaced by a 502 (0 = pass through). */
  loseWrites(fraction: number): void;
  /** The answers of the next `count` contact batch creates are lost (502) for sure. */
  loseNextCreates(count: number): void;
  /** The answers of the next `count` contact batch updates are lost (502) for sure. */
  loseNextUpdates(count: number): void;
  /** How many applied writes were answered 502 (creates among them). */
  lost(): { writes: number; creates: number };
  close(): Promise<void>;
}

const CONTACT_WRITE = /^\/crm\/v3\/objects\/contacts\/batch\/(create|update)$/;

export async function startLossyProxy(upstream: string, seed = 1): Promise<LossyProxy> {
  let fraction = 0;
  let nextCreates = 0;
  let nextUpdates = 0;
  const lost = { writes: 0, creates: 0 };
  const random = seededRandom(seed); // repeatable runs

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '/').split('?')[0];
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)) headers[k] = v;
      }
      const answer = await fetch(`${upstream}${req.url ?? '/'}`, {
        method: req.method,
        headers,
        body: body.length > 0 ? body : undefined,
      });
      const text = await answer.text();
      const write = req.method === 'POST' ? CONTACT_WRITE.exec(path)?.[1] : undefined;
      const forced = (write === 'create' && nextCreates > 0) || (write === 'update' && nextUpdates > 0);
      if (write && answer.status < 300 && (forced || random() < fraction)) {
        if (forced && write === 'create') nextCreates -= 1;
        if (forced && write === 'update') nextUpdates -= 1;
        lost.writes += 1;
        if (write === 'create') lost.creates += 1;
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>');
        return;
      }
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
    loseWrites: (f) => (fraction = f),
    loseNextCreates: (n) => (nextCreates = n),
    loseNextUpdates: (n) => (nextUpdates = n),
    lost: () => ({ ...lost }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
