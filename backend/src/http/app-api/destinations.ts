import type { Request, Response } from 'express';
import { z } from 'zod';
import {
  DESTINATION_CONNECT_METHODS,
  DESTINATION_KINDS,
  INTERCOM_REGIONS,
  DESTINATION_LABELS,
  OAUTH_DESTINATION_KINDS,
  SALESFORCE_ENVIRONMENTS,
  defaultDestinationSettings,
  isDestinationKind,
  validateDestinationSettings,
  type DestinationActivityResponse,
  type DestinationAuthorizeUrlResponse,
  type DestinationResponse,
  type IntercomRegion,
  type OAuthDestinationKind,
  type SalesforceEnvironment,
  type ListDestinationsResponse,
  type Mode,
  type TestDestinationResponse,
} from '@stripe-hubspot-sync/contracts';
import { modeOf, tenantOf } from './auth';
import type { AppApiDeps, DestinationService } from './services';
import { sendError } from '../respond';
import {
  deleteDestination,
  destinationCounts,
  destinationSummary,
  getDestination,
  credentialsDocument,
  insertDestination,
  keyHintOf,
  listDestinations,
  newDestinationId,
  setDestinationHealth,
  updateDestinationSettings,
  type StoredDestination,
} from '../../adapters/store/destinations-store';
import { destinationDeadLetters, recentDestinationWrites, replayDestinationDeadLetters } from '../../adapters/store/destination-push-store';
import { DestinationError } from '../../domain/destinations/port';
import { tombstoneOf } from '../../adapters/store/tombstones';
import { DestinationOAuthFlowError } from '../../adapters/destinations/oauth-flow';
import { DestinationOAuthError } from '../../adapters/destinations/oauth';

/**
 * The Stripe App's routes for destinations beside HubSpot. The account comes from the request's verified signature
 * (never from the body or the path); a destination id of another account answers 404, like one that does not exist.
 */

type Handler = (req: Request, res: Response) => Promise<void>;

const createSchema = z
  .object({
    mode: z.enum(['test', 'live']),
    kind: z.enum(DESTINATION_KINDS),
    apiKey: z.string().trim().min(8, 'Enter the API key').max(512, 'An API key is at most 512 characters'),
    settings: z.unknown().optional(),
    region: z.enum(INTERCOM_REGIONS).optional(),
  })
  .strict()
  .refine((r) => r.region === undefined || r.kind === 'intercom', { message: 'Only Intercom has a region', path: ['region'] })
  .refine((r) => DESTINATION_CONNECT_METHODS[r.kind].includes('api_key'), {
    message: 'This destination connects with OAuth only (GET /destinations/:kind/authorize-url)',
    path: ['kind'],
  });

const replaySchema = z
  .object({ mode: z.enum(['test', 'live']), customerIds: z.array(z.string().min(1).max(255)).max(1000).optional(), all: z.literal(true).optional() })
  .strict()
  .refine((r) => (r.all === true) !== (r.customerIds !== undefined), 'Send customerIds or all: true');

function service(deps: AppApiDeps, res: Response): DestinationService | null {
  if (deps.destinations) return deps.destinations;
  sendError(res, 404, 'not_found', 'Destinations are not available on this backend');
  return null;
}

/** The destination `:id` of the signed account in this mode, or a 404 answered. */
async function destinationOf(deps: AppApiDeps, req: Request, res: Response, mode: Mode): Promise<StoredDestination | null> {
  const id = String(req.params.id ?? '');
  const d = /^dst_[a-f0-9]{24}$/.test(id) ? await getDestination(deps.db, tenantOf(res).accountKey, mode === 'live', id) : null;
  if (!d) sendError(res, 404, 'not_found', 'No such destination');
  return d;
}

function refusal(res: Response, err: unknown): void {
  if (err instanceof DestinationError) {
    const message =
      err.errorClass === 'connection'
        ? `The key was refused: ${err.message}`
        : err.errorClass === 'rate_limited'
          ? 'The destination asked us to slow down; try again in a minute'
          : `The destination could not be reached: ${err.message}`;
    return sendError(res, err.errorClass === 'connection' ? 422 : 503, err.errorClass === 'connection' ? 'destination_refused' : 'service_unavailable', message);
  }
  throw err;
}

/** GET /destinations?mode= */
export function listDestinationsRoute(deps: AppApiDeps): Handler {
  return async (req, res) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const stored = await listDestinations(deps.db, tenantOf(res).accountKey, mode === 'live');
    const body: ListDestinationsResponse = { mode, destinations: await Promise.all(stored.map((d) => destinationSummary(deps.db, d))) };
    res.json(body);
  };
}

/** POST /destinations — the key is checked with the destination first, then stored sealed; never echoed. */
export function createDestinationRoute(deps: AppApiDeps): Handler {
  return async (req, res) => {
    const svc = service(deps, res);
    if (!svc) return;
    const parsed = createSchema.safeParse(req.body);
    if (!parsed.success) {
      return sendError(res, 400, 'bad_request', 'The destination is not valid', parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    }
    const { mode, kind, apiKey } = parsed.data;
    const region = kind === 'intercom' ? (parsed.data.region ?? 'us') : null;
    const settings = parsed.data.settings === undefined ? { ok: true as const, settings: defaultDestinationSettings(kind) } : validateDestinationSettings(kind, parsed.data.settings);
    if (!settings.ok) return sendError(res, 400, 'invalid_settings', 'The settings are not valid', settings.errors);
    const account = tenantOf(res).accountKey;
    const livemode = mode === 'live';
    if ((await tombstoneOf(deps.db, { account, livemode })) !== null) {
      return sendError(res, 409, 'uninstalled', 'The app was uninstalled from this Stripe account; connect once its new install has reached us.');
    }
    const existing = await listDestinations(deps.db, account, livemode);
    if (existing.some((d) => d.kind === kind)) {
      return sendError(res, 409, 'already_connected', `${DESTINATION_LABELS[kind]} is already connected in ${mode} mode; disconnect it first`);
    }
    const id = newDestinationId();
    // Sealed as a credentials document that says what it is (an API key; OAuth destinations hold tokens).
    const sealed = svc.seal(id, credentialsDocument({ kind: 'api_key', apiKey }));
    if (sealed === null) {
      return sendError(res, 503, 'not_configured', 'This backend cannot store API keys: set TOKEN_ENCRYPTION_KEY (see the README)');
    }
    let label: string;
    try {
      label = (await svc.check(kind, apiKey, region)).label;
    } catch (err) {
      return refusal(res, err);
    }
    const d = await insertDestination(deps.db, { id, account, livemode, kind, label: label || DESTINATION_LABELS[kind], keySealed: sealed, keyHint: keyHintOf(apiKey), settings: settings.settings, region });
    if (!d) return sendError(res, 409, 'already_connected', `${DESTINATION_LABELS[kind]} is already connected in ${mode} mode`);
    svc.wake();
    const body: DestinationResponse = { destination: await destinationSummary(deps.db, d) };
    res.status(201).json(body);
  };
}

/** PUT /destinations/:id/settings */
export function putDestinationSettingsRoute(deps: AppApiDeps): Handler {
  return async (req, res) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const d = await destinationOf(deps, req, res, mode);
    if (!d) return;
    const parsed = validateDestinationSettings(d.kind, (req.body as { settings?: unknown } | undefined)?.settings);
    if (!parsed.ok) return sendError(res, 400, 'invalid_settings', 'The settings are not valid', parsed.errors);
    const updated = await updateDestinationSettings(deps.db, d.account, d.livemode, d.id, parsed.settings);
    if (!updated) return sendError(res, 404, 'not_found', 'No such destination');
    deps.destinations?.wake();
    const body: DestinationResponse = { destination: await destinationSummary(deps.db, updated) };
    res.json(body);
  };
}

/** POST /destinations/:id/test — checks the stored key now; a key that works again clears a broken connection. */
export function testDestinationRoute(deps: AppApiDeps): Handler {
  return async (req, res) => {
    const svc = service(deps, res);
    if (!svc) return;
    const mode = modeOf(req, res);
    if (!mode) return;
    const d = await destinationOf(deps, req, res, mode);
    if (!d) return;
    let body: TestDestinationResponse;
    try {
      const { label } = await svc.test(d);
      await setDestinationHealth(deps.db, d.id, 'ok', null);
      body = { ok: true, message: `Connected to ${label || DESTINATION_LABELS[d.kind]}`, health: { state: 'ok', message: null, checkedAt: new Date().toISOString() } };
      svc.wake();
    } catch (err) {
      if (!(err instanceof DestinationError)) throw err;
      const broken = err.errorClass === 'connection';
      if (broken) await setDestinationHealth(deps.db, d.id, 'broken', err.message);
      body = {
        ok: false,
        message: broken ? `The key was refused: ${err.message}` : `The destination could not be reached: ${err.message}`,
        health: broken ? { state: 'broken', message: err.message, checkedAt: new Date().toISOString() } : d.health,
      };
    }
    res.json(body);
  };
}

/** DELETE /destinations/:id — only with `confirm` repeating the id. */
export function deleteDestinationRoute(deps: AppApiDeps): Handler {
  return async (req, res) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const d = await destinationOf(deps, req, res, mode);
    if (!d) return;
    const confirm = (req.body as { confirm?: unknown } | undefined)?.confirm;
    if (confirm !== d.id) {
      return sendError(res, 400, 'bad_request', 'Confirm the disconnection: send confirm with the destination id');
    }
    // An OAuth destination's refresh token is revoked at the destination first (best effort), then forgotten. Intercom
    // documents no revoke endpoint: its token is forgotten here, and the workspace's admin uninstalls the app there.
    await deps.destinations?.beforeDelete(d);
    res.json({ disconnected: await deleteDestination(deps.db, d.account, d.livemode, d.id) });
  };
}

/** GET /destinations/:id/activity?mode= */
export function destinationActivityRoute(deps: AppApiDeps): Handler {
  return async (req, res) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const d = await destinationOf(deps, req, res, mode);
    if (!d) return;
    const [counts, recent, deadLetters] = await Promise.all([destinationCounts(deps.db, d), recentDestinationWrites(deps.db, d.id), destinationDeadLetters(deps.db, d.id)]);
    const body: DestinationActivityResponse = { mode, destinationId: d.id, counts, recent, deadLetters };
    res.json(body);
  };
}

/** POST /destinations/:id/dead-letters/replay */
export function replayDestinationRoute(deps: AppApiDeps): Handler {
  return async (req, res) => {
    const parsed = replaySchema.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, 'bad_request', parsed.error.issues[0]?.message ?? 'Not a valid replay');
    const d = await destinationOf(deps, req, res, parsed.data.mode);
    if (!d) return;
    const replayed = await replayDestinationDeadLetters(deps.db, d.id, parsed.data.all ? 'all' : parsed.data.customerIds!);
    deps.destinations?.wake();
    res.json({ replayed });
  };
}

const NOT_CONFIGURED: Readonly<Record<OAuthDestinationKind, string>> = {
  klaviyo: 'Connect with Klaviyo is not configured on this backend (KLAVIYO_CLIENT_ID, KLAVIYO_CLIENT_SECRET); connect with a private API key',
  intercom: 'Connect with Intercom is not configured on this backend (INTERCOM_CLIENT_ID, INTERCOM_CLIENT_SECRET); connect with an access token',
  salesforce: 'Connect with Salesforce is not configured on this backend (SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET)',
};

/** An OAuth `state` as the backend issued it: printable ASCII, bounded. */
const connectOAuthSchema = z
  .object({
    mode: z.enum(['test', 'live']),
    code: z.string().min(1).max(2048),
    state: z.string().regex(/^[\x21-\x7e]{1,512}$/, 'state must be 1–512 printable characters'),
  })
  .strict();

/** The `:kind` of an OAuth route when it is a destination that connects with OAuth; else a 404 or 400 answered. */
function oauthKindOf(req: Request, res: Response): OAuthDestinationKind | null {
  const kind = String(req.params.kind ?? '');
  if (!isDestinationKind(kind)) {
    sendError(res, 404, 'not_found', `No route ${req.method} ${req.path}`);
    return null;
  }
  if (!(OAUTH_DESTINATION_KINDS as readonly string[]).includes(kind) || !DESTINATION_CONNECT_METHODS[kind].includes('oauth')) {
    sendError(res, 400, 'bad_request', `${DESTINATION_LABELS[kind]} connects with an API key (POST /destinations)`);
    return null;
  }
  return kind as OAuthDestinationKind;
}

/**
 * GET /destinations/:kind/authorize-url?mode=[&environment=production|sandbox][&region=us|eu|au] — the
 * destination's authorize URL with a state issued here and, where the destination has PKCE, an S256 challenge
 * (Salesforce: at the login host of the environment asked for; Intercom: at the app host of the workspace's region,
 * absent: us; either recorded with the state).
 */
export function destinationAuthorizeUrlRoute(deps: AppApiDeps): Handler {
  return async (req, res) => {
    const kind = oauthKindOf(req, res);
    if (!kind) return;
    const mode = modeOf(req, res);
    if (!mode) return;
    const rawEnvironment = req.query.environment;
    let environment: SalesforceEnvironment | undefined;
    if (rawEnvironment !== undefined) {
      if (kind !== 'salesforce' || typeof rawEnvironment !== 'string' || !(SALESFORCE_ENVIRONMENTS as readonly string[]).includes(rawEnvironment)) {
        return sendError(res, 400, 'bad_request', kind === 'salesforce' ? 'environment must be production or sandbox' : `${DESTINATION_LABELS[kind]} has no environment`);
      }
      environment = rawEnvironment as SalesforceEnvironment;
    }
    const rawRegion = req.query.region;
    let region: IntercomRegion | undefined;
    if (rawRegion !== undefined) {
      if (kind !== 'intercom' || typeof rawRegion !== 'string' || !(INTERCOM_REGIONS as readonly string[]).includes(rawRegion)) {
        return sendError(res, 400, 'bad_request', kind === 'intercom' ? 'region must be us, eu or au' : `${DESTINATION_LABELS[kind]} has no region`);
      }
      region = rawRegion as IntercomRegion;
    }
    const oauth = deps.destinations?.oauth[kind];
    if (!oauth) return sendError(res, 503, 'not_configured', NOT_CONFIGURED[kind]);
    const { accountKey, userId } = tenantOf(res);
    const who = { account: accountKey, livemode: mode === 'live', userId };
    const body: DestinationAuthorizeUrlResponse = { url: await oauth.begin(who, { environment, region }) };
    res.json(body);
  };
}

/**
 * POST /destinations/:kind/connect {mode, code, state} — the state is checked and consumed (this kind, account, mode
 * and user; unexpired; once), the code exchanged (with the verifier kept here where the destination has PKCE; at the
 * environment or region recorded with the state), the connection checked with the new token (Salesforce: the fields
 * the sync needs, named when missing; the tokens are then revoked; Intercom: GET /me), and the tokens stored sealed as
 * the destination's credentials, with the Intercom region. Nothing is stored when any step is refused.
 */
export function connectDestinationOAuthRoute(deps: AppApiDeps): Handler {
  return async (req, res) => {
    const kind = oauthKindOf(req, res);
    if (!kind) return;
    const label = DESTINATION_LABELS[kind];
    const parsed = connectOAuthSchema.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, 'bad_request', parsed.error.issues[0]?.message ?? 'mode, code and state are required');
    const svc = deps.destinations;
    const oauth = svc?.oauth[kind];
    if (!svc || !oauth) return sendError(res, 503, 'not_configured', NOT_CONFIGURED[kind]);
    const { mode, code, state } = parsed.data;
    const { accountKey: account, userId } = tenantOf(res);
    const livemode = mode === 'live';
    if ((await tombstoneOf(deps.db, { account, livemode })) !== null) {
      return sendError(res, 409, 'uninstalled', 'The app was uninstalled from this Stripe account; connect once its new install has reached us.');
    }
    if ((await listDestinations(deps.db, account, livemode)).some((d) => d.kind === kind)) {
      return sendError(res, 409, 'already_connected', `${label} is already connected in ${mode} mode; disconnect it first`);
    }
    const id = newDestinationId();
    let connected: Awaited<ReturnType<typeof oauth.connect>>;
    try {
      connected = await oauth.connect({ account, livemode, userId, code, state, destinationId: id });
    } catch (err) {
      if (err instanceof DestinationOAuthFlowError) return sendError(res, 400, 'invalid_oauth_state', err.message);
      if (err instanceof DestinationOAuthError) {
        return err.refused
          ? sendError(res, 400, 'bad_request', `${label} refused the authorization code: ${err.message}`)
          : sendError(res, 502, 'service_unavailable', `${label} did not answer the authorization: ${err.message}`);
      }
      // The new token works but the connection cannot sync as it is (Salesforce: fields an admin must create first).
      if (err instanceof DestinationError && err.errorClass === 'connection') {
        return sendError(res, 400, 'destination_refused', err.message);
      }
      return refusal(res, err);
    }
    const d = await insertDestination(deps.db, {
      id,
      account,
      livemode,
      kind,
      label: connected.label || label,
      keySealed: connected.keySealed,
      keyHint: 'OAuth',
      settings: defaultDestinationSettings(kind),
      authKind: 'oauth',
      environment: connected.environment,
      region: connected.region,
    });
    if (!d) {
      await connected.discard();
      return sendError(res, 409, 'already_connected', `${label} is already connected in ${mode} mode`);
    }
    svc.wake();
    const body: DestinationResponse = { destination: await destinationSummary(deps.db, d) };
    res.status(201).json(body);
  };
}

/** @deprecated the generic routes under Klaviyo's paths (they answer `/destinations/klaviyo/…` as the `:kind` routes do). */
export const klaviyoAuthorizeUrlRoute = destinationAuthorizeUrlRoute;
export const connectKlaviyoRoute = connectDestinationOAuthRoute;
