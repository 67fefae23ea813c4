import { useCallback, useEffect, useRef, useState } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import type { BackendClient } from '../../data/client';
import { oauthDestinationOfState, type HubSpotConnection, type PendingHubSpotConnection } from '../../data/contracts';
import { describeError, toRequestError } from '../../data/errors';

export type OAuthCompletion =
  | { phase: 'idle' }
  /** The code is being checked and exchanged. */
  | { phase: 'completing' }
  /** HubSpot authorized a portal: the merchant sees which, and what will be sent, and confirms or cancels. */
  | { phase: 'confirm'; pending: PendingHubSpotConnection; busy: 'confirming' | 'canceling' | null; error: string | null }
  | { phase: 'connected'; connection: HubSpotConnection }
  | { phase: 'canceled' }
  | { phase: 'error'; message: string };

export interface OAuthCompletionModel {
  state: OAuthCompletion;
  confirm: () => void;
  cancel: () => void;
}

/**
 * After HubSpot redirects back, the Dashboard opens the app with `oauthContext`: the code, the state we asked for
 * and the PKCE verifier of its challenge. The backend checks the state and the verifier, exchanges the code and
 * answers the portal it authorized, still *pending*: nothing is sent to HubSpot until the merchant confirms here.
 * A code works once: it is posted at most once per view. `onConnected` lets the page reload what depended on
 * the connection.
 */
export function useOAuthCompletion(
  client: BackendClient,
  oauthContext: ExtensionContextValue['oauthContext'],
  onConnected?: (connection: HubSpotConnection) => void,
): OAuthCompletionModel {
  // A state the backend issued for a destination ("Connect with Klaviyo / Intercom / Salesforce") is finished by
  // useDestinationOAuthReturn, not here.
  const destination = oauthDestinationOfState(oauthContext?.state) !== null;
  const code = destination ? undefined : oauthContext?.code;
  const state = oauthContext?.state;
  const verifier = oauthContext?.verifier;
  const oauthError = destination ? undefined : oauthContext?.error;
  const used = useRef<string | null>(null);
  const live = useRef(true);
  const connected = useRef(onConnected);
  connected.current = onConnected;
  const [result, setResult] = useState<OAuthCompletion>(() =>
    oauthError
      ? { phase: 'error', message: `HubSpot authorization was not completed (${oauthError}).` }
      : code
        ? { phase: 'completing' }
        : { phase: 'idle' },
  );

  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
    };
  }, []);

  useEffect(() => {
    if (!code || oauthError || used.current === code) return;
    used.current = code;
    if (!state || !verifier) {
      setResult({ phase: 'error', message: 'HubSpot came back without the state of this app’s request. Connect again.' });
      return;
    }
    setResult({ phase: 'completing' });
    client.connectHubSpot({ code, state, verifier }).then(
      (res) => live.current && setResult({ phase: 'confirm', pending: res.pending, busy: null, error: null }),
      (err: unknown) =>
        live.current && setResult({ phase: 'error', message: `Connecting HubSpot failed: ${describeError(toRequestError(err))}` }),
    );
  }, [client, code, state, verifier, oauthError]);

  const pending = result.phase === 'confirm' ? result.pending : null;
  const busy = result.phase === 'confirm' ? result.busy : null;

  const confirm = useCallback(() => {
    if (!pending || busy) return;
    setResult({ phase: 'confirm', pending, busy: 'confirming', error: null });
    client.confirmHubSpot(pending.portalId).then(
      (res) => {
        if (!live.current) return;
        setResult({ phase: 'connected', connection: res.connection });
        connected.current?.(res.connection);
      },
      (err: unknown) =>
        live.current &&
        setResult({ phase: 'confirm', pending, busy: null, error: `Could not connect: ${describeError(toRequestError(err))}` }),
    );
  }, [client, pending, busy]);

  const cancel = useCallback(() => {
    if (!pending || busy) return;
    setResult({ phase: 'confirm', pending, busy: 'canceling', error: null });
    client.cancelHubSpot().then(
      () => live.current && setResult({ phase: 'canceled' }),
      (err: unknown) =>
        live.current && setResult({ phase: 'confirm', pending, busy: null, error: `Could not cancel: ${describeError(toRequestError(err))}` }),
    );
  }, [client, pending, busy]);

  return { state: result, confirm, cancel };
}
