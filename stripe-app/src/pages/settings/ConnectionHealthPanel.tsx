import { Banner, Box, Button } from '@stripe/ui-extension-sdk/ui';
import type { ConnectionHealth, HubSpotConnection } from '../../data/contracts';
import { formatTime } from '../../format';
import type { ConnectionModel } from './useHubSpotConnection';

/** The badge of a connection: connected, paused (HubSpot refuses it for now) or to reconnect (HubSpot ended it). */
export function healthBadge(health: ConnectionHealth | undefined): { label: string; type: 'positive' | 'warning' | 'negative' } {
  if (health?.state === 'broken') return { label: 'Reconnect needed', type: 'negative' };
  if (health?.state === 'paused') return { label: 'Paused', type: 'warning' };
  return { label: 'Connected', type: 'positive' };
}

const waitingText = (n: number) =>
  n === 0 ? 'Nothing is lost: new payments are kept' : `Nothing is lost: ${n} ${n === 1 ? 'customer is' : 'customers are'} kept`;

/**
 * What HubSpot refuses of a connection, said plainly: the connection itself (paused or to reconnect, with HubSpot's
 * reason and since when; Reconnect for an OAuth connection), and properties HubSpot would not create.
 */
export function ConnectionHealthPanel({ connection, model }: { connection: HubSpotConnection; model: ConnectionModel }) {
  const health = connection.health;
  if (!health) return null;
  const refused = health.state !== 'ok';
  const reason = health.message ? `HubSpot says: “${health.message}”${health.code ? ` (${health.code})` : ''}.` : '';
  const since = health.since ? ` Since ${formatTime(health.since)}.` : '';
  const description =
    health.state === 'broken'
      ? `HubSpot ended this connection, so nothing is written to portal ${connection.portalId}. ${reason}${since} ${waitingText(health.waiting)} and written as soon as you reconnect.`
      : `HubSpot refuses our access to portal ${connection.portalId}, so writing is paused. ${reason}${since} ${waitingText(health.waiting)}; we check every minute and writing resumes by itself once HubSpot accepts it.`;
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      {refused ? (
        <Banner
          type={health.state === 'broken' ? 'critical' : 'caution'}
          title={health.state === 'broken' ? 'Reconnect HubSpot' : 'Writing to HubSpot is paused'}
          description={description}
        />
      ) : null}
      {refused && connection.kind === 'private_app' ? (
        <Box css={{ font: 'caption', color: 'secondary' }}>
          This connection uses a private app token: give the private app its scopes again, or set a new token on the sync
          service.
        </Box>
      ) : null}
      {refused && connection.kind === 'oauth' ? (
        model.authorizeUrl ? (
          <Box>
            <Button type="primary" href={model.authorizeUrl} target="_blank">
              Continue to HubSpot
            </Button>
          </Box>
        ) : (
          <Box>
            <Button type="primary" onPress={model.connect} pending={model.phase === 'preparing'}>
              Reconnect HubSpot
            </Button>
          </Box>
        )
      ) : null}
      {health.propertyProblems.length > 0 ? (
        <Banner
          type="caution"
          title="Some fields are not written"
          description={`HubSpot would not create ${health.propertyProblems
            .map((p) => `${p.property} (“${p.message}”, since ${formatTime(p.since)})`)
            .join(', ')}. The other fields are written; we try again every few minutes.`}
        />
      ) : null}
    </Box>
  );
}
