import { Banner, Box, Checkbox } from '@stripe/ui-extension-sdk/ui';
import type { SyncEventType, SyncSettings } from '../../data/contracts';
import { eventGroups, eventsError, type FieldErrors } from './formModel';

const GROUPS = eventGroups();

/** Which Stripe events update HubSpot, grouped by object; the others are recorded as ignored. */
export function EventsSection(props: {
  settings: SyncSettings;
  errors: FieldErrors;
  onToggle: (type: SyncEventType, on: boolean) => void;
}) {
  const chosen = new Set<string>(props.settings.events);
  const error = eventsError(props.errors);
  return (
    <Box css={{ stack: 'y', gap: 'medium' }}>
      <Box css={{ stack: 'y', gap: 'xxsmall' }}>
        <Box css={{ font: 'heading' }}>Events</Box>
        <Box css={{ font: 'caption', color: 'secondary' }}>
          Events you turn off are still received and listed in the activity, marked as ignored.
        </Box>
      </Box>
      {error ? <Banner type="critical" title="Events" description={error} /> : null}
      {GROUPS.map((g) => (
        <Box key={g.group} css={{ stack: 'y', gap: 'small' }}>
          <Box css={{ font: 'subheading' }}>{g.title}</Box>
          {g.events.map((e) => (
            <Checkbox
              key={e.type}
              label={e.type}
              description={e.description}
              checked={chosen.has(e.type)}
              onChange={(ev) => props.onToggle(e.type, ev.target.checked)}
            />
          ))}
        </Box>
      ))}
    </Box>
  );
}
