import {
  Badge,
  Banner,
  Box,
  Button,
  ContextView,
  Divider,
  Inline,
  Link,
  PropertyList,
  PropertyListItem,
} from '@stripe/ui-extension-sdk/ui';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { DestinationOAuthPanel } from '../components/DestinationOAuthPanel';
import { ModeNotice } from '../components/ModeNotice';
import { LoadError, Loading } from '../components/States';
import { fieldDefinition, type CustomerSyncResponse } from '../data/contracts';
import { formatTime, SYNC_STATE_BADGE, SYNC_STATE_LABEL } from '../format';
import { useCustomerPage, type CustomerPageModel } from '../pages/customer/useCustomerPage';
import { CrmRecords } from '../pages/customer/CrmRecords';
import { DestinationStates } from '../pages/customer/DestinationStates';

function SyncNow({ vm }: { vm: CustomerPageModel }) {
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      {vm.sync.kind === 'queued' ? (
        <Banner title="Sync queued" description="HubSpot is updated within a few seconds." />
      ) : null}
      {vm.sync.kind === 'failed' ? <Banner type="critical" title="Sync not started" description={vm.sync.message} /> : null}
      <Box>
        <Button type="primary" onPress={vm.syncNow} pending={vm.sync.kind === 'syncing'}>
          Sync now
        </Button>
      </Box>
    </Box>
  );
}

/** The backend can only re-send what it has: a customer no event has reached yet has nothing to sync. */
export function neverSeen(data: CustomerSyncResponse): boolean {
  return data.state === 'not_synced' && data.status === null;
}

const NEVER_SEEN_TEXT =
  'No event about this customer has reached the sync yet. It is written to HubSpot with its next event, or by an import from the app’s settings.';

function Linked({ data }: { data: CustomerSyncResponse }) {
  const anyFact = data.syncedFields.some((f) => f.value !== null);
  return (
    <Box css={{ stack: 'y', gap: 'medium' }}>
      <Box css={{ stack: 'y', gap: 'xsmall' }}>
        <Inline>
          <Badge type={SYNC_STATE_BADGE[data.state]}>{SYNC_STATE_LABEL[data.state]}</Badge>
        </Inline>
        {data.reason ? <Box css={{ font: 'caption' }}>{data.reason}</Box> : null}
        {data.status ? (
          <Box css={{ font: 'caption', color: 'secondary' }}>{`Last synced ${formatTime(data.status.lastSyncedAt)}`}</Box>
        ) : null}
      </Box>
      {neverSeen(data) ? (
        <Box>{NEVER_SEEN_TEXT}</Box>
      ) : data.contact ? (
        <Box css={{ stack: 'y', gap: 'xsmall' }}>
          <Box>{`HubSpot contact ${data.contact.id} in portal ${data.contact.portalId}`}</Box>
          <Link href={data.contact.url} target="_blank" external>
            Open the contact in HubSpot
          </Link>
        </Box>
      ) : (
        <Box>Not linked to a HubSpot contact yet.</Box>
      )}
      <CrmRecords data={data} />
      {anyFact ? (
        <Box css={{ stack: 'y', gap: 'small' }}>
          <Box css={{ font: 'heading' }}>Last synced to HubSpot</Box>
          <PropertyList>
            {data.syncedFields.map((f) => (
              <PropertyListItem key={f.key} label={fieldDefinition(f.key)?.label ?? f.property} value={f.value ?? '—'} />
            ))}
          </PropertyList>
        </Box>
      ) : null}
    </Box>
  );
}

/**
 * Viewport `stripe.dashboard.customer.detail`: this customer's HubSpot contact and sync state, its HubSpot company,
 * every subscription with its deal, its latest revenue movements, and its state in the other destinations.
 */
export function CustomerDetailView(props: ExtensionContextValue) {
  const vm = useCustomerPage(props);
  const { load } = vm;
  return (
    <ContextView title="HubSpot" description="This customer’s contact, company and deals in HubSpot, and what was last written to them.">
      <Box css={{ stack: 'y', gap: 'large' }}>
        <ModeNotice mode={vm.mode} subject="This sync status is for" />
        <DestinationOAuthPanel result={vm.oauthReturn} mode={vm.mode} />
        {load.status === 'loading' ? <Loading label="Loading the HubSpot contact…" /> : null}
        {load.status === 'error' ? (
          <LoadError title="The HubSpot status could not be loaded" error={load.error} onRetry={vm.reload} />
        ) : null}
        {load.status === 'not_connected' ? (
          <Banner
            title="HubSpot is not connected"
            description={`Connect a HubSpot portal for ${vm.mode} mode in this app’s settings to sync this customer.`}
          />
        ) : null}
        {load.status === 'unknown_customer' ? <Box>{NEVER_SEEN_TEXT}</Box> : null}
        {load.status === 'ready' ? (
          <Box css={{ stack: 'y', gap: 'medium' }}>
            <Linked data={load.data} />
            {load.data.destinations && load.data.destinations.length > 0 ? (
              <>
                <Divider />
                <DestinationStates destinations={load.data.destinations} />
              </>
            ) : null}
            {neverSeen(load.data) ? null : (
              <>
                <Divider />
                <SyncNow vm={vm} />
              </>
            )}
          </Box>
        ) : null}
      </Box>
    </ContextView>
  );
}

export default CustomerDetailView;
