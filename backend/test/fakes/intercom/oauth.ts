import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';

/**
 * The OAuth token endpoint of a fake Intercom (a public app's OAuth as Intercom's "Setting up OAuth" guide documents
 * it; the answer's key set is `specs/intercom/oauth-token.response.json`), mounted on the fake workspace's server by
 * one line in server.ts. The workspace's API accepts the token this issues last (the fake has one token), and a new
 * install clears `controls.revokeToken()` (an uninstalled app installed again).
 *
 * - There is no authorize page: a test mints the code the page would send back with `issueCode` (single use, about
 *   5 minutes as Intercom documents).
 * - `POST /auth/eagle/token` with `code`, `client_id` and `client_secret` (form-encoded or JSON): answers
 *   `{"token_type": "Bearer", "token": "…", "access_token": "…"}`. No PKCE, no refresh token, no expiry.
 *   Intercom does not document the refusals' bodies: the fake answers its API's `error.list` shape, 401
 *   `unauthorized` for a client id or secret it does not know, 400 `invalid_grant` for a code that is unknown, used
 *   or expired. An accepted exchange uses the code up; one refused for a wrong secret does not (it never
 *   authenticated).
 *
 * Registered per server (its port) with `fakeIntercomOAuth(fake, client)`.
 */

export interface FakeIntercomOAuthRequest {
  /** The form carried this client's id and its secret. */
  clientAuthenticated: boolean;
  /** Parameters sent beyond code, client_id and client_secret (a PKCE verifier, a grant type, …). */
  extraParams: string[];
  status: number;
  error: string | null;
}

export interface FakeIntercomOAuth {
  /** What the authorize page sends back after a workspace admin approves: a single-use code. */
  issueCode(): string;
  state: {
    tokenRequests: FakeIntercomOAuthRequest[];
    /** Every token this workspace issued (to check none reaches a log or an answer). */
    issued: string[];
  };
}

interface App {
  clientId: string;
  clientSecret: string;
  codes: Map<string, { expiresAt: number; used: boolean }>;
  api: FakeIntercomOAuth;
}

const apps = new Map<string, App>();
const CODE_TTL_MS = 5 * 60_000;

/** Registers a public app's OAuth client on the fake workspace at `fake.url`. */
export function fakeIntercomOAuth(fake: { url: string }, client: { clientId: string; clientSecret: string }): FakeIntercomOAuth {
  const app: App = {
    ...client,
    codes: new Map(),
    api: undefined as unknown as FakeIntercomOAuth,
  };
  app.api = {
    issueCode: () => {
      const code = randomBytes(16).toString('hex');
      app.codes.set(code, { expiresAt: Date.now() + CODE_TTL_MS, used: false });
      return code;
    },
    state: { tokenRequests: [], issued: [] },
  };
  apps.set(new URL(fake.url).port, app);
  return app.api;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/**
 * Answers `POST /auth/eagle/token` of the fake workspace this request reached (true), or leaves the request to the
 * REST API (false). `install` makes the workspace's API accept a newly issued token (and only it).
 */
export async function intercomOAuthRoute(req: IncomingMessage, res: ServerResponse, url: URL, install: (token: string) => void): Promise<boolean> {
  if (url.pathname !== '/auth/eagle/token') return false;
  const raw = await readBody(req);
  let params: Record<string, string> = {};
  if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
    try {
      params = Object.fromEntries(Object.entries(JSON.parse(raw) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    } catch {
      params = {};
    }
  } else {
    params = Object.fromEntries(new URLSearchParams(raw));
  }
  const app = apps.get(String(req.socket.localPort));
  const record: FakeIntercomOAuthRequest = {
    clientAuthenticated: Boolean(app && params.client_id === app.clientId && params.client_secret === app.clientSecret),
    extraParams: Object.keys(params).filter((k) => !['code', 'client_id', 'client_secret'].includes(k)),
    status: 0,
    error: null,
  };
  app?.api.state.tokenRequests.push(record);
  const answer = (status: number, body: unknown) => {
    record.status = status;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
    return true;
  };
  const refuse = (status: number, code: string, message: string) => {
    record.error = code;
    return answer(status, { type: 'error.list', request_id: randomUUID(), errors: [{ code, message }] });
  };
  if (req.method !== 'POST') return refuse(404, 'not_found', 'Resource Not Found');
  if (!app || params.client_id !== app.clientId || params.client_secret !== app.clientSecret) return refuse(401, 'unauthorized', 'Client authentication failed');
  const code = app.codes.get(params.code ?? '');
  if (!code || code.used || code.expiresAt <= Date.now()) return refuse(400, 'invalid_grant', 'The authorization code is invalid, used or expired');
  code.used = true;
  const token = `dG9rOm${randomBytes(30).toString('base64url')}`;
  app.api.state.issued.push(token);
  install(token);
  return answer(200, { token_type: 'Bearer', token, access_token: token });
}
