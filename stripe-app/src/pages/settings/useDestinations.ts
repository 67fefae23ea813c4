import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import type { BackendClient } from '../../data/client';
import {
  DESTINATION_EVENT_CATALOG,
  DESTINATION_CONNECT_METHODS,
  DESTINATION_KINDS,
  DESTINATION_LABELS,
  OAUTH_DESTINATION_KINDS,
  validateDestinationSettings,
  type DestinationEventKey,
  type DestinationKind,
  type DestinationSettings,
  type DestinationSummary,
  type FieldKey,
  type IntercomRegion,
  type ListDestinationsResponse,
  type OAuthDestinationKind,
  type OnCustomerDeleted,
  type SalesforceEnvironment,
} from '../../data/contracts';
import { describeError, toRequestError, type ApiRequestError } from '../../data/errors';
import { useRemote } from '../../data/useRemote';
import { destinationName, KEY_NOUN } from '../shared/destinationText';
import { useDestinationOAuthReturn, type DestinationOAuthReturn } from '../shared/useDestinationOAuthReturn';
import { errorsFromDetails, type FieldErrors } from './formModel';

export type EditorSave = { kind: 'idle' } | { kind: 'saving' } | { kind: 'invalid' } | { kind: 'failed'; message: string };

export interface DestinationEditor {
  id: string;
  kind: DestinationKind;
  draft: DestinationSettings;
  /** Live errors from the contract's rules, and what the backend refused at the last save (by settings path). */
  errors: FieldErrors;
  save: EditorSave;
}

export interface AddForm {
  kind: DestinationKind;
  /** What the merchant is typing; emptied as soon as it is submitted, whatever the answer. */
  apiKey: string;
  /** Intercom's region (sent for Intercom only); United States until the merchant picks another. */
  region: IntercomRegion;
  /** Salesforce's login environment (sent for Salesforce only); Production until the merchant picks Sandbox. */
  environment: SalesforceEnvironment;
  busy: boolean;
  error: string | null;
}

export type TestResult = { busy: true } | { busy: false; ok: boolean; message: string };

/**
 * "Connect with …" in the add form, for a kind that offers OAuth: `checking` while the backend is asked for an
 * authorize URL (for the chosen Salesforce environment or Intercom region), `ready` with it (the merchant follows
 * it to the destination), `not_configured` when the backend has no OAuth client for the kind (a 503, or no such
 * route), `failed` when it could not be asked (the message says why).
 */
export type OAuthOffer =
  | { kind: OAuthDestinationKind; status: 'checking' }
  | { kind: OAuthDestinationKind; status: 'ready'; url: string }
  | { kind: OAuthDestinationKind; status: 'not_configured' }
  | { kind: OAuthDestinationKind; status: 'failed'; message: string };

/** The kinds connected with "Connect with …", and those with a key field. */
export function offersOAuth(kind: DestinationKind): kind is OAuthDestinationKind {
  return DESTINATION_CONNECT_METHODS[kind].includes('oauth') && (OAUTH_DESTINATION_KINDS as readonly string[]).includes(kind);
}
export function takesKey(kind: DestinationKind): boolean {
  return DESTINATION_CONNECT_METHODS[kind].includes('api_key');
}

export interface DestinationsModel {
  /** False when the backend has no destinations API (404): the section is hidden. */
  available: boolean;
  load: { status: 'loading' } | { status: 'error'; error: ApiRequestError } | { status: 'ready' };
  reload: () => void;
  destinations: DestinationSummary[];
  /** Kinds not connected yet in this mode: what "Add destination" offers. */
  addableKinds: DestinationKind[];
  notice: string | null;
  add: AddForm | null;
  openAdd: () => void;
  closeAdd: () => void;
  setAddKind: (kind: DestinationKind) => void;
  setApiKey: (key: string) => void;
  setRegion: (region: IntercomRegion) => void;
  setEnvironment: (environment: SalesforceEnvironment) => void;
  submitAdd: () => void;
  tests: Record<string, TestResult>;
  test: (id: string) => void;
  editor: DestinationEditor | null;
  openEditor: (id: string) => void;
  closeEditor: () => void;
  toggleEvent: (key: DestinationEventKey, on: boolean) => void;
  toggleField: (key: FieldKey, on: boolean) => void;
  renameField: (key: FieldKey, property: string) => void;
  setOnDeleted: (choice: OnCustomerDeleted) => void;
  saveEditor: () => void;
  /** The destination whose disconnection waits for the merchant's confirmation. */
  confirming: string | null;
  askDisconnect: (id: string) => void;
  cancelDisconnect: () => void;
  disconnect: (id: string) => void;
  disconnecting: string | null;
  /** Why an action on a destination failed (disconnect), by destination id. */
  errors: Record<string, string>;
  /** "Connect with …" while the add form is on a kind that offers OAuth (null: another kind, or no form). */
  oauthOffer: OAuthOffer | null;
  /** Asks the backend again for the authorize URL after it could not be asked. */
  retryOAuthOffer: () => void;
  /** A destination's way back through the Dashboard's OAuth redirect, finished here. */
  oauthReturn: DestinationOAuthReturn;
}

/** Live validation with the contract's rules for the kind: the same the backend applies on save. */
export function destinationErrors(kind: DestinationKind, draft: DestinationSettings): FieldErrors {
  const r = validateDestinationSettings(kind, draft);
  return r.ok ? {} : errorsFromDetails(r.errors);
}

function withEvent(s: DestinationSettings, key: DestinationEventKey, on: boolean): DestinationSettings {
  const chosen = new Set<string>(s.events);
  if (on) chosen.add(key);
  else chosen.delete(key);
  // The catalog's order, so the saved document is stable.
  return { ...s, events: DESTINATION_EVENT_CATALOG.map((e) => e.key).filter((k) => chosen.has(k)) };
}

function withField(s: DestinationSettings, key: FieldKey, change: Partial<DestinationSettings['fields'][FieldKey]>): DestinationSettings {
  return { ...s, fields: { ...s.fields, [key]: { ...s.fields[key], ...change } } };
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const next = { ...record };
  delete next[key];
  return next;
}

interface EditState {
  id: string;
  kind: DestinationKind;
  draft: DestinationSettings;
  serverErrors: FieldErrors;
  save: EditorSave;
}

/**
 * Destinations besides HubSpot in this mode: list, connect with an API key (Intercom: an access token and a region)
 * or with "Connect with …" (Klaviyo, Intercom, Salesforce — which has no key), finish the OAuth way back, test, edit the settings of one at a time (saved with PUT), and disconnect after an explicit confirmation.
 */
export function useDestinations(client: BackendClient, oauthContext?: ExtensionContextValue['oauthContext']): DestinationsModel {
  const remote = useRemote(client.listDestinations);
  const { state, setData, reload } = remote;
  const data: ListDestinationsResponse | null = state.status === 'ready' ? state.data : null;
  const destinations = useMemo(() => data?.destinations ?? [], [data]);

  const [notice, setNotice] = useState<string | null>(null);
  const [add, setAdd] = useState<AddForm | null>(null);
  const [tests, setTests] = useState<Record<string, TestResult>>({});
  const [edit, setEdit] = useState<EditState | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [disconnecting, setDisconnecting] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});

  // Kinds not connected yet in this mode: with a key, with "Connect with …", or both.
  const addableKinds = DESTINATION_KINDS.filter((k) => !destinations.some((d) => d.kind === k));

  // "Connect with …": offered when the backend answers an authorize URL (its state and PKCE are the backend's),
  // asked again when the merchant picks another Salesforce environment or Intercom region.
  const [offer, setOffer] = useState<OAuthOffer | null>(null);
  const [offerTry, setOfferTry] = useState(0);
  const offerKind = add && offersOAuth(add.kind) ? add.kind : null;
  const offerRegion = offerKind === 'intercom' ? add?.region : undefined;
  const offerEnvironment = offerKind === 'salesforce' ? add?.environment : undefined;
  useEffect(() => {
    if (!offerKind) {
      setOffer(null);
      return;
    }
    let live = true;
    setOffer({ kind: offerKind, status: 'checking' });
    client.destinationAuthorizeUrl(offerKind, { region: offerRegion, environment: offerEnvironment }).then(
      ({ url }) => live && setOffer({ kind: offerKind, status: 'ready', url }),
      (err: unknown) => {
        if (!live) return;
        const e = toRequestError(err);
        // 503 not_configured: no OAuth client for this kind; 404: a backend without this destination's OAuth.
        const notConfigured = (e.code === 'not_configured' && e.status !== null) || e.code === 'not_found';
        setOffer(notConfigured ? { kind: offerKind, status: 'not_configured' } : { kind: offerKind, status: 'failed', message: describeError(e) });
      },
    );
    return () => {
      live = false;
    };
  }, [client, offerKind, offerRegion, offerEnvironment, offerTry]);

  // Actions finish in any order: each changes the list as it is when its answer arrives.
  const latest = useRef(data);
  latest.current = data;
  /** Puts what an action returned in the list, keeping the rest as loaded. */
  const replace = useCallback(
    (fn: (list: DestinationSummary[]) => DestinationSummary[]) => {
      const current = latest.current;
      if (!current) return;
      const next = { ...current, destinations: fn(current.destinations) };
      latest.current = next;
      setData(next);
    },
    [setData],
  );

  // A destination's way back ("Connect with Klaviyo / Intercom / Salesforce"): the Dashboard opens the app with the
  // code and the state the backend issued (its prefix names the destination); posted once.
  const onOAuthConnected = useCallback(
    (destination: DestinationSummary) => {
      setAdd(null);
      // Not loaded yet: the list may have been read before the connection, so read it again.
      if (latest.current) replace((list) => [...list.filter((d) => d.id !== destination.id), destination]);
      else reload();
      setNotice(`${destinationName(destination)} is connected with ${DESTINATION_LABELS[destination.kind]} for ${destination.mode} mode.`);
    },
    [replace, reload],
  );
  const oauthReturn = useDestinationOAuthReturn(client, oauthContext, onOAuthConnected);

  const openAdd = useCallback(() => {
    const kind = addableKinds[0];
    if (!kind) return;
    setNotice(null);
    setAdd({ kind, apiKey: '', region: 'us', environment: 'production', busy: false, error: null });
  }, [addableKinds]);

  const submitAdd = useCallback(() => {
    if (!add || add.busy || !takesKey(add.kind)) return;
    const apiKey = add.apiKey.trim();
    const kind = add.kind;
    if (apiKey === '') {
      setAdd({ ...add, error: `Enter the ${DESTINATION_LABELS[kind]} ${KEY_NOUN[kind]}.` });
      return;
    }
    // The key leaves the form now: it is in this request only, never kept or shown again.
    setAdd({ ...add, apiKey: '', busy: true, error: null });
    // Only Intercom has a region (the backend refuses one for any other kind).
    client.createDestination(kind, apiKey, kind === 'intercom' ? { region: add.region } : {}).then(
      ({ destination }) => {
        setAdd(null);
        replace((list) => [...list.filter((d) => d.id !== destination.id), destination]);
        setNotice(`${destinationName(destination)} is connected for ${destination.mode} mode.`);
      },
      (err: unknown) => {
        const e = toRequestError(err);
        // A refusal of the request itself (4xx) may say which part was wrong.
        const details = (e.status ?? 500) < 500 && e.details.length > 0 ? `: ${e.details.map((d) => d.message).join('; ')}` : '';
        const message = `${DESTINATION_LABELS[kind]} was not connected: ${describeError(e)}${details}`;
        setAdd((a) => (a ? { ...a, busy: false, error: message } : a));
      },
    );
  }, [add, client, replace]);

  const test = useCallback(
    (id: string) => {
      setTests((t) => ({ ...t, [id]: { busy: true } }));
      client.testDestination(id).then(
        (res) => {
          setTests((t) => ({ ...t, [id]: { busy: false, ok: res.ok, message: res.message } }));
          replace((list) => list.map((d) => (d.id === id ? { ...d, health: res.health } : d)));
        },
        (err: unknown) => {
          const message = `The test could not run: ${describeError(toRequestError(err))}`;
          setTests((t) => ({ ...t, [id]: { busy: false, ok: false, message } }));
        },
      );
    },
    [client, replace],
  );

  const openEditor = useCallback(
    (id: string) => {
      const d = destinations.find((x) => x.id === id);
      if (!d) return;
      setNotice(null);
      setEdit({ id, kind: d.kind, draft: d.settings, serverErrors: {}, save: { kind: 'idle' } });
    },
    [destinations],
  );

  const change = useCallback((fn: (s: DestinationSettings) => DestinationSettings, paths: string[]) => {
    setEdit((e) => {
      if (!e) return e;
      const serverErrors = { ...e.serverErrors };
      for (const p of paths) delete serverErrors[p];
      return { ...e, draft: fn(e.draft), serverErrors, save: e.save.kind === 'saving' ? e.save : { kind: 'idle' } };
    });
  }, []);

  const localErrors = useMemo(() => (edit ? destinationErrors(edit.kind, edit.draft) : {}), [edit]);

  const saveEditor = useCallback(() => {
    if (!edit || edit.save.kind === 'saving') return;
    if (Object.keys(destinationErrors(edit.kind, edit.draft)).length > 0) {
      setEdit({ ...edit, save: { kind: 'invalid' } });
      return;
    }
    const { id, draft } = edit;
    setEdit({ ...edit, save: { kind: 'saving' } });
    client.saveDestinationSettings(id, draft).then(
      ({ destination }) => {
        setEdit(null);
        replace((list) => list.map((d) => (d.id === id ? destination : d)));
        setNotice(`The settings of ${destinationName(destination)} are saved.`);
      },
      (err: unknown) => {
        const e = toRequestError(err);
        setEdit((cur) => {
          if (!cur || cur.id !== id) return cur;
          if (e.code === 'invalid_settings' && e.details.length > 0) {
            return { ...cur, serverErrors: errorsFromDetails(e.details), save: { kind: 'invalid' } };
          }
          return { ...cur, save: { kind: 'failed', message: describeError(e) } };
        });
      },
    );
  }, [client, edit, replace]);

  const disconnect = useCallback(
    (id: string) => {
      const d = destinations.find((x) => x.id === id);
      // Only what the merchant confirmed is sent, and `confirm` repeats the id the backend asks for.
      if (!d || confirming !== id) return;
      setDisconnecting(id);
      setErrors((e) => without(e, id));
      client.deleteDestination(id, id).then(
        () => {
          setDisconnecting(null);
          setConfirming(null);
          setEdit((e) => (e?.id === id ? null : e));
          setTests((t) => without(t, id));
          replace((list) => list.filter((x) => x.id !== id));
          setNotice(`${destinationName(d)} is disconnected: nothing more is sent to it. What it already holds stays there.`);
        },
        (err: unknown) => {
          setDisconnecting(null);
          setErrors((e) => ({ ...e, [id]: `Could not disconnect: ${describeError(toRequestError(err))}` }));
        },
      );
    },
    [client, confirming, destinations, replace],
  );

  return {
    available: !(state.status === 'error' && state.error.code === 'not_found'),
    load: state.status === 'ready' ? { status: 'ready' } : state,
    reload,
    destinations,
    addableKinds,
    notice,
    add,
    openAdd,
    closeAdd: useCallback(() => setAdd(null), []),
    setAddKind: useCallback((kind: DestinationKind) => setAdd((a) => (a ? { ...a, kind, error: null } : a)), []),
    setApiKey: useCallback((apiKey: string) => setAdd((a) => (a ? { ...a, apiKey } : a)), []),
    setRegion: useCallback((region: IntercomRegion) => setAdd((a) => (a ? { ...a, region } : a)), []),
    setEnvironment: useCallback((environment: SalesforceEnvironment) => setAdd((a) => (a ? { ...a, environment } : a)), []),
    submitAdd,
    tests,
    test,
    editor: edit
      ? { id: edit.id, kind: edit.kind, draft: edit.draft, errors: { ...edit.serverErrors, ...localErrors }, save: edit.save }
      : null,
    openEditor,
    closeEditor: useCallback(() => setEdit(null), []),
    toggleEvent: useCallback((key, on) => change((s) => withEvent(s, key, on), ['events']), [change]),
    toggleField: useCallback(
      (key, on) => change((s) => withField(s, key, { enabled: on }), [`fields.${key}.enabled`, `fields.${key}.property`]),
      [change],
    ),
    renameField: useCallback(
      (key, property) => change((s) => withField(s, key, { property }), [`fields.${key}.property`]),
      [change],
    ),
    setOnDeleted: useCallback((choice) => change((s) => ({ ...s, onCustomerDeleted: choice }), ['onCustomerDeleted']), [change]),
    saveEditor,
    confirming,
    askDisconnect: useCallback((id: string) => {
      setNotice(null);
      setConfirming(id);
    }, []),
    cancelDisconnect: useCallback(() => setConfirming(null), []),
    disconnect,
    disconnecting,
    errors,
    oauthOffer: offer && offer.kind === add?.kind ? offer : null,
    retryOAuthOffer: useCallback(() => setOfferTry((n) => n + 1), []),
    oauthReturn,
  };
}
