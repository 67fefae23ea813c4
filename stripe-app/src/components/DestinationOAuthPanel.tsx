import { Banner, Box, Link } from '@stripe/ui-extension-sdk/ui';
import { DESTINATION_LABELS, type Mode } from '../data/contracts';
import { appSettingsUrl } from '../links';
import { destinationName } from '../pages/shared/destinationText';
import type { DestinationOAuthReturn } from '../pages/shared/useDestinationOAuthReturn';
import { Loading } from './States';

/**
 * A destination's way back from "Connect with …" in a view other than the settings (the drawer, the customer
 * view): finishing, then the destination connected (its settings are in the app's settings), or why not.
 */
export function DestinationOAuthPanel({ result, mode }: { result: DestinationOAuthReturn; mode: Mode }) {
  switch (result.phase) {
    case 'completing':
      return <Loading label={`Connecting ${DESTINATION_LABELS[result.kind]}…`} />;
    case 'connected':
      return (
        <Box css={{ stack: 'y', gap: 'small' }}>
          <Banner
            type="default"
            title={`${DESTINATION_LABELS[result.kind]} connected`}
            description={`${destinationName(result.destination)} is connected with ${DESTINATION_LABELS[result.kind]} for ${mode} mode. Choose what it receives in the app’s settings.`}
          />
          <Box>
            <Link href={appSettingsUrl(mode)}>Open the app’s settings</Link>
          </Box>
        </Box>
      );
    case 'error':
      return <Banner type="critical" title={`${DESTINATION_LABELS[result.kind]} not connected`} description={result.message} />;
    default:
      return null;
  }
}
