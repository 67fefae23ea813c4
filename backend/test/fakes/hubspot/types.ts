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
  /** The developer API key (`?hapikey=`) that manages the app's timeline event templates (default 'test-developer-api-key'). */
  developerApiKey?: string;
}

/** A CRM record of any object type (contact, company, deal, ticket, note). */
export interface FakeObject {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export type FakeContact = FakeObject;

/** The CRM object types the fake models with their full v3 API (tasks have their own small route). */
export type CrmObjectType = 'contacts' | 'companies' | 'deals' | 'tickets' | 'notes';

/** Object types an association can join (tasks included: they are associated on create). */
export type AssociableType = CrmObjectType | 'tasks';

/** One association type on an association, as HubSpot's v4 API describes it. */
export interface FakeAssociationType {
  category: 'HUBSPOT_DEFINED' | 'USER_DEFINED';
  typeId: number;
  /** null for the unlabeled (default) type. */
  label: string | null;
}

/** The associations from one record to another, in that direction (the inverse direction is stored too). */
export interface FakeAssociation {
  fromId: string;
  toId: string;
  types: FakeAssociationType[];
}

export interface FakePipelineStage {
  id: string;
  label: string;
  displayOrder: number;
  /** deals: `probability` ("0.0"–"1.0") and `isClosed`; tickets: `ticketState` (OPEN/CLOSED) and `isClosed`. */
  metadata: Record<string, string>;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface FakePipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: FakePipelineStage[];
  archived: boolean;
  createdAt: string;
  updatedAt: string;
  archivedAt?: string;
}

/** A timeline event template of the app (`/integrators/timeline/v3/{appId}/event-templates`). */
export interface FakeEventTemplate {
  id: string;
  appId: number;
  name: string;
  /** contacts, companies, deals or tickets. */
  objectType: string;
  headerTemplate?: string;
  detailTemplate?: string;
  tokens: { name: string; label: string; type: string; options?: { label: string; value: string }[]; objectPropertyName?: string; createdAt: string; updatedAt: string }[];
  createdAt: string;
  updatedAt: string;
}

/** A timeline event as stored (immutable once created, as HubSpot's are). */
export interface FakeTimelineEvent {
  id: string;
  eventTemplateId: string;
  appId: number;
  objectType: string;
  /** The record the event is on. */
  objectId: string;
  email?: string;
  tokens: Record<string, string>;
  extraData?: unknown;
  timelineIFrame?: unknown;
  timestamp: string;
  createdAt: string;
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
  /**
   * Creating a property of that name (on `objectType`, default contacts) answers 400 VALIDATION_ERROR with `message`
   * (e.g. a portal at its limit).
   */
  refusePropertyCreation(name: string, message?: string, objectType?: CrmObjectType): void;
  /** Creating that property works again. */
  allowPropertyCreation(name: string, objectType?: CrmObjectType): void;
  /** Live companies, deals, tickets, notes (not archived), in id order. */
  companies(): FakeObject[];
  deals(): FakeObject[];
  tickets(): FakeObject[];
  notes(): FakeObject[];
  /** Any record of that type by id, archived ones included (flagged). */
  object(type: CrmObjectType, id: string): FakeObject | undefined;
  /** Live record of that type whose property equals value (case-insensitive for email). */
  objectByProperty(type: CrmObjectType, name: string, value: string): FakeObject | undefined;
  /**
   * Seed a record directly: no request counted, visible to search at once, no validation (deals/tickets get the
   * default pipeline when none is given). Throws on a duplicate unique value.
   */
  addObject(type: CrmObjectType, properties: Record<string, string>): FakeObject;
  /** Property definitions / groups of an object type (the same maps as `properties`/`groups` for contacts). */
  propertiesOf(type: CrmObjectType): Map<string, Record<string, unknown>>;
  groupsOf(type: CrmObjectType): Map<string, Record<string, unknown>>;
  /** Live pipelines of deals or tickets, by displayOrder (each portal starts with HubSpot's default one). */
  pipelines(type: 'deals' | 'tickets'): FakePipeline[];
  /** Associations from `from` records to `to` records (both ends live), in from-id then to-id order. */
  associations(from: AssociableType, to: AssociableType): FakeAssociation[];
  /** A USER_DEFINED association label between two types; returns its type id (the inverse direction gets one too). */
  defineAssociationLabel(from: AssociableType, to: AssociableType, label: string, inverseLabel?: string): number;
  /** Timeline events created in this portal, in creation order. */
  timelineEvents(): FakeTimelineEvent[];
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
  /** The id of the fake's one OAuth app (the app every authorization code and access token belongs to). */
  appId: number;
  /** The developer API key that manages that app's timeline event templates (sent as `?hapikey=`). */
  developerApiKey: string;
  /** The app's timeline event templates, in creation order. */
  eventTemplates(): FakeEventTemplate[];
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
