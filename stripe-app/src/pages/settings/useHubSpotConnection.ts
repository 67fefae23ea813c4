import { useCallback, useState } from 'react';
import { createOAuthState } from '@stripe/ui-extension-sdk/utils';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import type { BackendClient } from '../../data/client';
import type { HubSpotConnection } from '../../data/contracts';
import { describeError, toRequestError } from '../../data/errors';
import { useOAuthCompletion, type OAuthCompletionModel } from '../shared/useOAuthCompletion';

export type ConnectionPhase = 'idle' | 'preparing' | 'ready' | 'disconnecting' | 'checking';

export interface ConnectionModel {
  /** The connection to show: what an action returned, else what the settings load returned. */
  connection: HubSpotConnection | null;
  phase: ConnectionPhase;
  /** The way back from HubSpot (finishing, the portal to confirm, the outcome) while it is news. */
  oauth: OAuthCompletionModel | null;
  /** HubSpot's authorize URL once prepared: the view links to it. */
  authorizeUrl: string | null;
  error: string | null;
  notice: string | null;
  /** What the last "Test HubSpot connection" found (null: not checked here). */
  checked: { ok: boolean; message: string } | null;
  connect: () => void;
  disconnect: () => void;
  /** Tests the connection with HubSpot now; a paused connection that works again resumes at once. */
  check: () => void;
}

/**
 * Connect: createOAuthState() gives a state and a PKCE challenge → the backend records them for this user and
 * builds HubSpot's authorize URL for this mode → the merchant follows the link. The way back (oauthContext) is
 * finished by useOAuthCompletion, and the portal is connected only once the merchant confirms it there.
 * Disconnect: DELETE. Check: POST /hubspot/connection/test, whose answer replaces the connection shown (its health).
 */
export function useHubSpotConnection(
  client: BackendClient,
  oauthContext: ExtensionContextValue['oauthContext'],
  loaded: HubSpotConnection | null,
  onConnected?: (connection: HubSpotConnection) => void,
): ConnectionModel {
  // undefined: nothing changed here, show what was loaded.
  const [override, setOverride] = useState<HubSpotConnection | null | undefined>(undefined);
  const completion = useOAuthCompletion(client, oauthContext, (connection) => {
    setOverride(connection);
    onConnected?.(connection);
  });
  const [phase, setPhase] = useState<ConnectionPhase>('idle');
  const [authorizeUrl, setAuthorizeUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [checked, setChecked] = useState<{ ok: boolean; message: string } | null>(null);
  // Once the merchant acts here, the OAuth return's outcome is old news.
  const [acted, setActed] = useState(false);

  const connect = useCallback(() => {
    setPhase('preparing');
    setActed(true);
    setError(null);
    setNotice(null);
    createOAuthState()
      .then(({ state, challenge }) => client.getAuthorizeUrl(state, challenge))
      .then(
        ({ url }) => {
          setAuthorizeUrl(url);
          setPhase('ready');
        },
        (err: unknown) => {
          setError(`Could not start the HubSpot connection: ${describeError(toRequestError(err))}`);
          setPhase('idle');
        },
      );
  }, [client]);

  const check = useCallback(() => {
    setPhase('checking');
    setActed(true);
    setError(null);
    setNotice(null);
    setChecked(null);
    client.testHubSpotConnection().then(
      ({ ok, message, connection }) => {
        setOverride(connection);
        setChecked({ ok, message });
        setPhase('idle');
      },
      (err: unknown) => {
        setError(`Could not check the HubSpot connection: ${describeError(toRequestError(err))}`);
        setPhase('idle');
      },
    );
  }, [client]);

  const disconnect = useCallback(() => {
    setPhase('disconnecting');
    setActed(true);
    setError(null);
    setNotice(null);
    setChecked(null);
    client.disconnectHubSpot().then(
      () => {
        setOverride(null);
        setAuthorizeUrl(null);
        setNotice('HubSpot disconnected. Nothing more is written to that portal in this mode.');
        setPhase('idle');
      },
      (err: unknown) => {
        setError(`Could not disconnect HubSpot: ${describeError(toRequestError(err))}`);
        setPhase('idle');
      },
    );
  }, [client]);

  const returning = completion.state.phase;
  // While HubSpot's answer is being finished or confirmed it is the only thing to act on.
  const inFlight = returning === 'completing' || returning === 'confirm';
  return {
    connection: override !== undefined ? override : loaded,
    phase,
    oauth: inFlight || (!acted && returning !== 'idle') ? completion : null,
    authorizeUrl: phase === 'ready' ? authorizeUrl : null,
    error,
    notice,
    checked,
    connect,
    disconnect,
    check,
  };
}
