import { useCallback, useMemo, useState } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import type { CrmObjectSettings, FieldKey, GetSettingsResponse, Mode, SyncEventType, SyncOptions, SyncSettings } from '../../data/contracts';
import { describeError, toRequestError, type ApiRequestError } from '../../data/errors';
import { useBackendClient } from '../../data/useBackend';
import { useRemote } from '../../data/useRemote';
import {
  crmPath,
  errorsFromDetails,
  setCrm,
  setEvent,
  setFieldEnabled,
  setFieldProperty,
  setOption,
  validationErrors,
  withoutPaths,
  type CrmPart,
  type FieldErrors,
} from './formModel';
import { useBackfill, type BackfillModel } from './useBackfill';
import { useDestinations, type DestinationsModel } from './useDestinations';
import { useHubSpotConnection, type ConnectionModel } from './useHubSpotConnection';

export type SaveStatus =
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'saved' }
  | { kind: 'invalid' }
  | { kind: 'failed'; message: string };

export interface SettingsPageModel {
  mode: Mode;
  load: { status: 'loading' } | { status: 'error'; error: ApiRequestError } | { status: 'ready' };
  reload: () => void;
  /** The form being edited (null until loaded). */
  draft: SyncSettings | null;
  isDefault: boolean;
  dirty: boolean;
  errors: FieldErrors;
  save: SaveStatus;
  statusMessage: string;
  onSave: (() => void) | undefined;
  toggleEvent: (type: SyncEventType, on: boolean) => void;
  toggleField: (key: FieldKey, on: boolean) => void;
  renameField: (key: FieldKey, property: string) => void;
  toggleOption: (key: keyof SyncOptions, on: boolean) => void;
  /** Changes settings of one part of the `crm` section (companies, deals, timeline, tickets). */
  changeCrm: <P extends CrmPart>(part: P, change: Partial<CrmObjectSettings[P]>) => void;
  connection: ConnectionModel;
  backfill: BackfillModel;
  /** Klaviyo, Loops: connected, tested, edited and saved on their own, apart from the HubSpot settings. */
  destinations: DestinationsModel;
}

const STATUS_TEXT: Record<SaveStatus['kind'], string> = {
  idle: '',
  saving: 'Saving…',
  saved: 'Saved',
  invalid: 'Fix the highlighted fields, then save again',
  failed: '',
};

type Props = Pick<ExtensionContextValue, 'userContext' | 'environment' | 'oauthContext'>;

/** The settings page's view model: load, edit with live validation, save, connection, backfill. */
export function useSettingsPage(props: Props): SettingsPageModel {
  const client = useBackendClient(props);
  const remote = useRemote(client.getSettings);
  const loaded: GetSettingsResponse | null = remote.state.status === 'ready' ? remote.state.data : null;

  // The draft follows what was loaded until the merchant edits it.
  const [edited, setEdited] = useState<{ base: GetSettingsResponse; settings: SyncSettings } | null>(null);
  const draft = edited && edited.base === loaded ? edited.settings : loaded?.settings ?? null;
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [save, setSave] = useState<SaveStatus>({ kind: 'idle' });

  const localErrors = useMemo(() => (draft ? validationErrors(draft) : {}), [draft]);
  const errors = useMemo(() => ({ ...serverErrors, ...localErrors }), [serverErrors, localErrors]);

  const edit = useCallback(
    (change: (s: SyncSettings) => SyncSettings, paths: string[]) => {
      if (!loaded || !draft) return;
      setEdited({ base: loaded, settings: change(draft) });
      setServerErrors((e) => withoutPaths(e, paths));
      setSave((s) => (s.kind === 'saving' ? s : { kind: 'idle' }));
    },
    [loaded, draft],
  );

  const { setData } = remote;
  const submit = useCallback(() => {
    if (!draft || save.kind === 'saving') return;
    if (Object.keys(validationErrors(draft)).length > 0) {
      setSave({ kind: 'invalid' });
      return;
    }
    setSave({ kind: 'saving' });
    client.saveSettings(draft).then(
      (res) => {
        setServerErrors({});
        setEdited(null);
        setData(res);
        setSave({ kind: 'saved' });
      },
      (err: unknown) => {
        const e = toRequestError(err);
        if (e.code === 'invalid_settings' && e.details.length > 0) {
          setServerErrors(errorsFromDetails(e.details));
          setSave({ kind: 'invalid' });
        } else {
          setSave({ kind: 'failed', message: describeError(e) });
        }
      },
    );
  }, [client, draft, save.kind, setData]);

  const backfill = useBackfill(client);
  const destinations = useDestinations(client, props.oauthContext);
  // A confirmed connection starts an import: show its progress.
  const connection = useHubSpotConnection(client, props.oauthContext, loaded?.connection ?? null, backfill.reload);

  const mode = client.context.mode;
  return {
    mode,
    load: remote.state.status === 'ready' ? { status: 'ready' } : remote.state,
    reload: remote.reload,
    draft,
    isDefault: loaded?.isDefault ?? false,
    dirty: edited !== null && edited.base === loaded,
    errors,
    save,
    statusMessage: save.kind === 'failed' ? `Not saved: ${save.message}` : STATUS_TEXT[save.kind],
    onSave: draft ? submit : undefined,
    toggleEvent: (type, on) => edit((s) => setEvent(s, type, on), ['events']),
    toggleField: (key, on) =>
      edit((s) => setFieldEnabled(s, key, on), [`fields.${key}.enabled`, `fields.${key}.property`]),
    renameField: (key, property) => edit((s) => setFieldProperty(s, key, property), [`fields.${key}.property`]),
    toggleOption: (key, on) => edit((s) => setOption(s, key, on), [`options.${key}`]),
    changeCrm: (part, change) =>
      edit(
        (s) => setCrm(s, part, change),
        Object.keys(change).map((key) => crmPath(part, key as keyof typeof change)),
      ),
    connection,
    backfill,
    destinations,
  };
}
