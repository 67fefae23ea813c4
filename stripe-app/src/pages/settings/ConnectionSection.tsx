import { Badge, Banner, Box, Button, Inline } from '@stripe/ui-extension-sdk/ui';
import { OAuthCompletionPanel } from '../../components/OAuthCompletionPanel';
import type { Mode } from '../../data/contracts';
import { formatTime } from '../../format';
import type { ConnectionModel } from './useHubSpotConnection';
import { ConnectionHealthPanel, healthBadge } from './ConnectionHealthPanel';

/** Which HubSpot portal this mode writes to; connect (OAuth, then confirm the portal) or disconnect. */
export function ConnectionSection({ model, mode }: { model: ConnectionModel; mode: Mode }) {
  const { connection, phase, oauth } = model;
  const returning = oauth?.state.phase;
  // While a portal HubSpot authorized waits for confirmation, the section shows that and nothing that contradicts it.
  const awaiting = returning === 'completing' || returning === 'confirm';
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Box css={{ font: 'heading' }}>HubSpot connection</Box>
      {model.error ? <Banner type="critical" title="HubSpot connection" description={model.error} /> : null}
      {model.notice ? <Banner type="default" title="HubSpot connection" description={model.notice} /> : null}
      {oauth ? <OAuthCompletionPanel oauth={oauth} mode={mode} /> : null}
      {awaiting ? null : connection ? (
        <Box css={{ stack: 'y', gap: 'small' }}>
          <Inline>
            <Badge type={healthBadge(connection.health).type}>{healthBadge(connection.health).label}</Badge>
          </Inline>
          <Box>
            {`Portal ${connection.portalId}${connection.hubDomain ? ` (${connection.hubDomain})` : ''}, connected ${formatTime(connection.connectedAt)}${connection.kind === 'private_app' ? ' with a private app token' : ''}.`}
          </Box>
          <ConnectionHealthPanel connection={connection} model={model} />
          {model.checked ? (
            <Banner
              type={model.checked.ok ? 'default' : 'caution'}
              title={model.checked.ok ? 'HubSpot answers' : 'HubSpot did not accept the check'}
              description={model.checked.message}
            />
          ) : null}
          <Inline css={{ gap: 'small' }}>
            <Button onPress={model.check} pending={phase === 'checking'} disabled={phase === 'disconnecting'}>
              Test HubSpot connection
            </Button>
            {connection.kind === 'oauth' ? (
              <Button type="destructive" onPress={model.disconnect} pending={phase === 'disconnecting'} disabled={phase === 'checking'}>
                Disconnect HubSpot
              </Button>
            ) : null}
          </Inline>
        </Box>
      ) : (
        <Box css={{ stack: 'y', gap: 'small' }}>
          <Inline>
            <Badge type="neutral">Not connected</Badge>
          </Inline>
          <Box>{`No HubSpot portal is connected for ${mode} mode. Payments are recorded here but not written to HubSpot until you connect one.`}</Box>
          {model.authorizeUrl ? (
            <Box css={{ stack: 'y', gap: 'xsmall' }}>
              <Box>
                <Button type="primary" href={model.authorizeUrl} target="_blank">
                  Continue to HubSpot
                </Button>
              </Box>
              <Box css={{ font: 'caption', color: 'secondary' }}>
                Choose the portal in HubSpot; you come back here to confirm it before anything is sent.
              </Box>
            </Box>
          ) : (
            <Box>
              <Button type="primary" onPress={model.connect} pending={phase === 'preparing'}>
                Connect HubSpot
              </Button>
            </Box>
          )}
        </Box>
      )}
    </Box>
  );
}
