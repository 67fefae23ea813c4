/** Public types of the fake HubSpot server (see server.ts for `startFakeHubSpot`). */

export interface FakeHubSpotOptions {
  /** Requests per rolling window per portal (default 110, HubSpot's marketplace-app burst limit). */
  burstLimit?: number;
  /** Length of the rolling window (default 10_000 ms). */
  burstWindowMs?: number;
  /** CRM search requests per second per portal (default 5). */
  searchPerSecond?: number;
  /** Index lag: a written contact becomes visible to search this long after the write (default 0). */
  searchLagMs?: number;
  /** Added to every response (default 0). */
  latencyMs?: number;
  /** OAuth access token `expires_in` (default 1800). */
  tokenLifetimeSeconds?: number;
  /** OAuth app credentials accepted (defaults 'test-client-id' / 'test-client-secret'). */
  clientId?: string;
  clientSecret?: string;
  /** Validate request bodies against HubSpot's OpenAPI request schemas (default true). */
  validateBodies?: boolean;
  /** Seed of the RNG behind `inject.failRate` (default 1). */
  seed?: number;
}

export interface FakeContact {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface FakeTask {
  id: string;
  properties: Record<string, string>;
  associations: unknown[];
  createdAt: string;
  updatedAt: string;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** HTTP status answered (0 while the request is still being handled). */
  status: number;
  /** Parsed request body (JSON or form fields), undefined when empty. */
  body: unknown;
  /** Portal the credentials resolved to; null for OAuth calls and failed authentication. */
  portalId: number | null;
  /** Arrival time (ms since epoch). */
  at: number;
}

export interface FakePortal {
  id: number;
  /** Contacts by id (archived ones included, flagged). */
  contacts: Map<string, FakeContact>;
  /** Contact property definitions by name (HubSpot's `Property` shape). */
  properties: Map<string, Record<string, unknown>>;
  /** Contact property groups by name (HubSpot's `PropertyGroup` shape). */
  groups: Map<string, Record<string, unknown>>;
  tasks: FakeTask[];
  /** Live (not archived) contact with that email, case-insensitive. */
  contactByEmail(email: string): FakeContact | undefined;
  /** Live contact whose property equals value (case-insensitive for email). */
  contactByProperty(name: string, value: string): FakeContact | undefined;
  /** Seed a contact directly: no request counted, visible to search at once. Throws on a duplicate email. */
  addContact(properties: Record<string, string>): FakeContact;
  /** Creating a property of that name answers 400 VALIDATION_ERROR with `message` (e.g. a portal at its limit). */
  refusePropertyCreation(name: string, message?: string): void;
  /** Creating that property works again. */
  allowPropertyCreation(name: string): void;
}

export interface RequestFilter {
  portalId?: number;
  pathPrefix?: string;
  method?: string;
}

export interface FakeHubSpotInject {
  /** The next `count` CRM requests answer `status` (with `body`, or a HubSpot-like body for that status). */
  failNext(count: number, status: number, body?: unknown): void;
  /** A random share of CRM requests answer `status` (seeded RNG: `seed` option or `inject.seed`). */
  failRate(fraction: number, status: number): void;
  /** The next `count` CRM writes answer 423 Locked. */
  lockNext(count: number): void;
  /** The next `count` CRM writes are held `ms` before they are applied (a slow request: it lands late). */
  delayNext(count: number, ms: number): void;
  /** Added to every response from now on. */
  latency(ms: number): void;
  setBurstLimit(limit: number, windowMs?: number): void;
  /** Re-seed the RNG behind failRate. */
  seed(seed: number): void;
  /** Remove every injection (failures, locks, latency, burst limit back to the options). */
  clear(): void;
}

export interface IssueCodeOptions {
  hubDomain?: string;
  scopes?: string[];
  /** When given, the token exchange must send exactly this redirect_uri. */
  redirectUri?: string;
  /**
   * PKCE: the `code_challenge` of the authorization request (method S256). The exchange must then send a
   * `code_verifier` whose S256 is this challenge.
   */
  codeChallenge?: string;
}

export interface FakeHubSpot {
  /** http://127.0.0.1:<port> — use as the SDK's `basePath`. */
  url: string;
  /** The portal with that id, created on first use. */
  portal(id: number): FakePortal;
  /** A static bearer token (private app) for a portal. */
  addPrivateAppToken(token: string, portalId: number): void;
  /** An authorization code the token endpoint will exchange once for that portal. */
  issueAuthorizationCode(code: string, portalId: number, opts?: IssueCodeOptions): void;
  /** Every OAuth access token issued so far becomes expired (401); refresh tokens keep working. */
  expireAccessTokens(): void;
  /** The private-app token is revoked: every call with it answers 401 (add it again to restore it). */
  revokePrivateAppToken(token: string): void;
  /** The app is uninstalled from the portal: its OAuth tokens answer 401 and refreshing answers BAD_REFRESH_TOKEN. */
  uninstallApp(portalId: number): void;
  /** Every request, in arrival order. */
  requests: RecordedRequest[];
  requestCount(filter?: RequestFilter): number;
  inject: FakeHubSpotInject;
  /** Forget portals, tokens, requests and injections. */
  reset(): void;
  close(): Promise<void>;
}
