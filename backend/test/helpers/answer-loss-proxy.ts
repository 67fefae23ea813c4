import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of the fake HubSpot that loses answers on demand: a matching request is passed on (HubSpot
 * applies it) and its answer, whatever it was, replaced by a 502 as a gateway would — the caller cannot know
 * whether the write happened. Everything else passes through untouched.
 */
export interface AnswerLossProxy {
  url: string;
  /** The answers of the next `count` POST requests whose path matches `path` are lost. */
  loseNext(path: RegExp, count: number): void;
  /** How many answers were lost so far. */
  lost(): number;
  close(): Promise<void>;
}

export async function startAnswerLossProxy(upstream: string): Promise<AnswerLossProxy> {
  const rules: { path: RegExp; left: number }[] = [];
  let lost = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '/').split('?')[0]!;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)) headers[k] = v;
      }
      const answer = await fetch(`${upstream}${req.url ?? '/'}`, { method: req.method, headers, body: body.length > 0 ? body : undefined });
      const text = await answer.text();
      const rule = req.method === 'POST' ? rules.find((r) => r.left > 0 && r.path.test(path)) : undefined;
      if (rule) {
        rule.left -= 1;
        lost += 1;
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
    loseNext: (path, count) => void rules.push({ path, left: count }),
    lost: () => lost,
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
