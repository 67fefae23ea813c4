import { Badge, Box, Inline } from '@stripe/ui-extension-sdk/ui';
import { DESTINATION_LABELS, type CustomerDestinationState } from '../../data/contracts';
import { formatTime } from '../../format';
import { CUSTOMER_STATE, destinationName, RECORD_NOUN } from '../shared/destinationText';

function DestinationState({ d }: { d: CustomerDestinationState }) {
  const state = CUSTOMER_STATE[d.state] ?? CUSTOMER_STATE.not_synced;
  const details = [
    d.lastSyncedAt ? `Last synced ${formatTime(d.lastSyncedAt)}` : 'Never synced',
    d.externalId ? `${DESTINATION_LABELS[d.kind]} ${RECORD_NOUN[d.kind]} ${d.externalId}` : null,
  ].filter(Boolean);
  return (
    <Box css={{ stack: 'y', gap: 'xxsmall' }}>
      <Inline css={{ gap: 'small' }}>
        <Box css={{ font: 'bodyEmphasized' }}>{destinationName(d)}</Box>
        <Badge type={state.type}>{state.label}</Badge>
      </Inline>
      <Box css={{ font: 'caption', color: 'secondary' }}>{details.join(' · ')}</Box>
      {d.message ? <Box css={{ font: 'caption' }}>{d.message}</Box> : null}
    </Box>
  );
}

/** This customer in each destination besides HubSpot (Klaviyo, Loops, Intercom, Salesforce); nothing from a backend that sends none. */
export function DestinationStates({ destinations }: { destinations: CustomerDestinationState[] | undefined }) {
  if (!destinations || destinations.length === 0) return null;
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Box css={{ font: 'heading' }}>Other destinations</Box>
      {destinations.map((d) => (
        <DestinationState key={d.destinationId} d={d} />
      ))}
    </Box>
  );
}
