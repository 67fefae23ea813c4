import type { Request, Response } from 'express';
import { modeOf, tenantOf } from './auth';
import type { AppApiDeps } from './services';
import { loadSettings, saveSettings } from '../../adapters/store/settings-store';
import { markAllForPush } from '../../adapters/store/sync-store';
import { validateSettings } from '@stripe-hubspot-sync/contracts';
import { canonical } from '../../domain/sync/status';
import type { GetSettingsResponse, Mode } from '@stripe-hubspot-sync/contracts';
import { sendError } from '../respond';

async function settingsResponse(deps: AppApiDeps, account: string, mode: Mode): Promise<GetSettingsResponse> {
  const livemode = mode === 'live';
  const [stored, connection] = await Promise.all([loadSettings(deps.db, account, livemode), deps.installs.connection(account, livemode)]);
  return { mode, settings: stored.settings, connection, isDefault: stored.isDefault };
}

/** GET /settings?mode= */
export function getSettings(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    res.json(await settingsResponse(deps, tenantOf(res).accountKey, mode));
  };
}

/** PUT /settings — validated by the same zod schema the app uses; field errors carry their path. */
export function putSettings(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const parsed = validateSettings((req.body as { settings?: unknown } | undefined)?.settings);
    if (!parsed.ok) return sendError(res, 400, 'invalid_settings', 'The settings are not valid', parsed.errors);
    const account = tenantOf(res).accountKey;
    const livemode = mode === 'live';
    const before = await loadSettings(deps.db, account, livemode);
    await saveSettings(deps.db, account, livemode, parsed.settings);
    // A renamed or newly enabled property must be written for every customer, not only the next changed one.
    if (canonical(before.settings.fields) !== canonical(parsed.settings.fields)) {
      await markAllForPush(deps.db, account, livemode);
      deps.wakePusher();
    }
    res.json(await settingsResponse(deps, account, mode));
  };
}
