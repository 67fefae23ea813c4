import { useEffect, useRef, useState } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import type { BackendClient } from '../../data/client';
import {
  DESTINATION_LABELS,
  oauthDestinationOfState,
  type DestinationResponse,
  type DestinationSummary,
  type OAuthDestinationKind,
} from '../../data/contracts';
import { describeError, toRequestError } from '../../data/errors';

/**
 * A destination's way back through the Dashboard's OAuth redirect ("Connect with Klaviyo / Intercom / Salesforce"):
 * `completing` while the code is posted, then the destination connected, or why not (the backend's words for a
 * refusal of the request, e.g. Salesforce's missing fields).
 */
export type DestinationOAuthReturn =
  | { phase: 'idle' }
  | { phase: 'completing'; kind: OAuthDestinationKind }
  | { phase: 'connected'; kind: OAuthDestinationKind; destination: DestinationSummary }
  | { phase: 'error'; kind: OAuthDestinationKind; message: string };

/**
 * Codes posted from this app's bundle, with their answer: a code works once, so a view opened again with the same
 * `oauthContext` (or a second view given it) shows the first answer instead of posting it again.
 */
const posted = new Map<string, Promise<DestinationResponse>>();

/** The merchant's words for a failed connection: the backend's refusal of the request as it said it (4xx), with its details. */
export function oauthReturnError(kind: OAuthDestinationKind, err: unknown): string {
  const e = toRequestError(err);
  const extra = (e.status ?? 500) < 500 ? e.details.map((d) => d.message).filter((m) => !e.message.includes(m)) : [];
  return `Connecting ${DESTINATION_LABELS[kind]} failed: ${describeError(e)}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`;
}

function initial(kind: OAuthDestinationKind | null, context: ExtensionContextValue['oauthContext']): DestinationOAuthReturn {
  if (!kind || !context) return { phase: 'idle' };
  const label = DESTINATION_LABELS[kind];
  if (context.error) return { phase: 'error', kind, message: `${label} authorization was not completed (${context.error}).` };
  if (!context.code) return { phase: 'error', kind, message: `${label} came back without an authorization code. Connect again.` };
  return { phase: 'completing', kind };
}

/**
 * Finishes a destination's OAuth return in whichever view the Dashboard opened with `oauthContext`: its state's
 * prefix names the destination (any other state is HubSpot's, left to `useOAuthCompletion`); the code and state are
 * posted once to `/destinations/:kind/connect`. `onConnected` lets the view show the new destination.
 */
export function useDestinationOAuthReturn(
  client: BackendClient,
  oauthContext: ExtensionContextValue['oauthContext'],
  onConnected?: (destination: DestinationSummary) => void,
): DestinationOAuthReturn {
  const kind = oauthDestinationOfState(oauthContext?.state);
  const code = kind && !oauthContext?.error ? oauthContext?.code : undefined;
  const state = oauthContext?.state;
  const [result, setResult] = useState<DestinationOAuthReturn>(() => initial(kind, oauthContext));
  const connected = useRef(onConnected);
  connected.current = onConnected;

  useEffect(() => {
    if (!kind || !code || !state) return;
    const key = [client.context.accountId, client.context.mode, kind, state, code].join('\n');
    let live = true;
    setResult({ phase: 'completing', kind });
    let answer = posted.get(key);
    if (!answer) {
      answer = client.connectDestinationOAuth(kind, { code, state });
      posted.set(key, answer);
    }
    answer.then(
      ({ destination }) => {
        if (!live) return;
        setResult({ phase: 'connected', kind, destination });
        connected.current?.(destination);
      },
      (err: unknown) => live && setResult({ phase: 'error', kind, message: oauthReturnError(kind, err) }),
    );
    return () => {
      // Unmounted before the answer: a view mounted again with this code takes the same answer.
      live = false;
    };
  }, [client, kind, code, state]);

  return result;
}
