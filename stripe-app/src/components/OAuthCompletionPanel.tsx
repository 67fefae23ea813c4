import { Banner, Box, Button } from '@stripe/ui-extension-sdk/ui';
import type { Mode, PendingHubSpotConnection } from '../data/contracts';
import { formatTime } from '../format';
import type { OAuthCompletionModel } from '../pages/shared/useOAuthCompletion';

function portalName(p: { portalId: number; hubDomain: string | null }): string {
  return p.hubDomain ? `${p.hubDomain} (portal ${p.portalId})` : `portal ${p.portalId}`;
}

/** What confirming starts sending, in the merchant's words. */
export function willSendLines(p: PendingHubSpotConnection): string[] {
  const w = p.willSend;
  const customers = w.knownCustomers === 1 ? '1 customer' : `${w.knownCustomers} customers`;
  return [
    `Contact properties written: ${w.properties.join(', ')}.`,
    w.knownCustomers > 0 ? `The ${customers} already synced here are written right away.` : null,
    w.importExisting ? 'Your existing Stripe customers are imported.' : null,
    w.createContacts ? 'Customers without a matching contact get a new contact.' : 'Only customers with a matching contact are written; no contact is created.',
    w.setLifecycleCustomer ? 'A contact’s lifecycle stage becomes “customer” on its first payment.' : null,
    w.createTaskOnFailure ? 'A task is created on the contact when a payment fails.' : null,
  ].filter((l): l is string => l !== null);
}

/**
 * The way back from HubSpot: finishing, then the portal HubSpot authorized and what will be sent to it, with
 * Connect / Cancel; then the outcome. Renders nothing when no authorization came back.
 */
export function OAuthCompletionPanel({ oauth, mode }: { oauth: OAuthCompletionModel; mode: Mode }) {
  const s = oauth.state;
  switch (s.phase) {
    case 'completing':
      return <Box>Finishing the HubSpot connection…</Box>;
    case 'confirm':
      return (
        <Box css={{ stack: 'y', gap: 'small' }}>
          <Banner
            type="caution"
            title="Connect this HubSpot portal?"
            description={`HubSpot authorized ${portalName(s.pending)}${s.pending.authorizedBy ? `, signed in as ${s.pending.authorizedBy}` : ''}. Nothing has been sent to it yet. Check that it is the portal you want for ${mode} mode.`}
          />
          <Box css={{ font: 'heading' }}>What connecting sends to this portal</Box>
          <Box css={{ stack: 'y', gap: 'xsmall' }}>
            {willSendLines(s.pending).map((line) => (
              <Box key={line}>{`• ${line}`}</Box>
            ))}
          </Box>
          {s.error ? <Banner type="critical" title="HubSpot connection" description={s.error} /> : null}
          <Box css={{ stack: 'x', gap: 'small' }}>
            <Button type="primary" onPress={oauth.confirm} pending={s.busy === 'confirming'} disabled={s.busy === 'canceling'}>
              Connect this portal
            </Button>
            <Button onPress={oauth.cancel} pending={s.busy === 'canceling'} disabled={s.busy === 'confirming'}>
              Cancel
            </Button>
          </Box>
          <Box css={{ font: 'caption', color: 'secondary' }}>{`Confirm before ${formatTime(s.pending.confirmBy)}.`}</Box>
        </Box>
      );
    case 'connected':
      return (
        <Banner
          type="default"
          title="HubSpot connected"
          description={`HubSpot ${portalName(s.connection)} is connected for ${mode} mode.`}
        />
      );
    case 'canceled':
      return <Banner type="default" title="HubSpot connection" description="Nothing was connected. You can connect a portal at any time." />;
    case 'error':
      return <Banner type="critical" title="HubSpot connection" description={s.message} />;
    default:
      return null;
  }
}
