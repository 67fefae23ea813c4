import { useEffect, useRef, useState } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import type { BackendClient } from '../../data/client';
import type { HubSpotConnection } from '../../data/contracts';
import { describeError, toRequestError } from '../../data/errors';

export type OAuthCompletion =
  | { phase: 'idle' }
  | { phase: 'completing' }
  | { phase: 'connected'; connection: HubSpotConnection }
  | { phase: 'error'; message: string };

/**
 * After HubSpot redirects back, the Dashboard opens the app with `oauthContext`. We hand the code
 * (with its state and PKCE verifier) to the backend, which holds the client secret and exchanges it.
 * A code works once: it is posted at most once per view.
 */
export function useOAuthCompletion(
  client: BackendClient,
  oauthContext: ExtensionContextValue['oauthContext'],
): OAuthCompletion {
  const code = oauthContext?.code;
  const state = oauthContext?.state;
  const verifier = oauthContext?.verifier;
  const oauthError = oauthContext?.error;
  const used = useRef<string | null>(null);
  const [result, setResult] = useState<OAuthCompletion>(() =>
    oauthError
      ? { phase: 'error', message: `HubSpot authorization was not completed (${oauthError}).` }
      : code
        ? { phase: 'completing' }
        : { phase: 'idle' },
  );

  useEffect(() => {
    if (!code || oauthError || used.current === code) return;
    used.current = code;
    let live = true;
    setResult({ phase: 'completing' });
    client.connectHubSpot({ code, state, verifier }).then(
      (res) => live && setResult({ phase: 'connected', connection: res.connection }),
      (err: unknown) =>
        live && setResult({ phase: 'error', message: `Connecting HubSpot failed: ${describeError(toRequestError(err))}` }),
    );
    return () => {
      live = false;
    };
  }, [client, code, state, verifier, oauthError]);

  return result;
}
