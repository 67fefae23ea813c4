import { useCallback, useState } from 'react';
import { createOAuthState } from '@stripe/ui-extension-sdk/utils';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import type { BackendClient } from '../../data/client';
import type { HubSpotConnection } from '../../data/contracts';
import { describeError, toRequestError } from '../../data/errors';
import { useOAuthCompletion } from '../shared/useOAuthCompletion';

export type ConnectionPhase = 'idle' | 'preparing' | 'ready' | 'completing' | 'disconnecting';

export interface ConnectionModel {
  /** The connection to show: what an action returned, else what the settings load returned. */
  connection: HubSpotConnection | null;
  phase: ConnectionPhase;
  /** HubSpot's authorize URL once prepared: the view links to it. */
  authorizeUrl: string | null;
  error: string | null;
  notice: string | null;
  connect: () => void;
  disconnect: () => void;
}

/**
 * Connect: createOAuthState() → the backend builds HubSpot's authorize URL for this mode → the merchant
 * follows the link. The way back (oauthContext) is finished by useOAuthCompletion. Disconnect: DELETE.
 */
export function useHubSpotConnection(
  client: BackendClient,
  oauthContext: ExtensionContextValue['oauthContext'],
  loaded: HubSpotConnection | null,
): ConnectionModel {
  const completion = useOAuthCompletion(client, oauthContext);
  // undefined: nothing changed here, show what was loaded.
  const [override, setOverride] = useState<HubSpotConnection | null | undefined>(undefined);
  const [phase, setPhase] = useState<'idle' | 'preparing' | 'ready' | 'disconnecting'>('idle');
  const [authorizeUrl, setAuthorizeUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Once the merchant acts here, the OAuth return's message is old news.
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

  const disconnect = useCallback(() => {
    setPhase('disconnecting');
    setActed(true);
    setError(null);
    setNotice(null);
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

  // A connection just made through OAuth wins over the (possibly older) loaded one.
  const fromOAuth = completion.phase === 'connected' ? completion.connection : undefined;
  const connection = override !== undefined ? override : fromOAuth ?? loaded;
  const oauthError = completion.phase === 'error' && !acted ? completion.message : null;
  const oauthNotice =
    completion.phase === 'connected' && !acted ? `HubSpot portal ${completion.connection.portalId} is connected.` : null;

  return {
    connection,
    phase: completion.phase === 'completing' ? 'completing' : phase,
    authorizeUrl: phase === 'ready' ? authorizeUrl : null,
    error: error ?? oauthError,
    notice: notice ?? oauthNotice,
    connect,
    disconnect,
  };
}
