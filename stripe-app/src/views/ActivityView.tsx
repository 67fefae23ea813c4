import { Banner, Box, Button, ContextView, Divider, Link } from '@stripe/ui-extension-sdk/ui';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { DestinationOAuthPanel } from '../components/DestinationOAuthPanel';
import { ModeNotice } from '../components/ModeNotice';
import { OAuthCompletionPanel } from '../components/OAuthCompletionPanel';
import { LoadError, Loading } from '../components/States';
import { appSettingsUrl } from '../links';
import { Counts, DeadLetters, EventRows, FailedEvents, OutcomeFilterSelect } from '../pages/activity/ActivitySections';
import { ActivitySourceSelect, DestinationActivity } from '../pages/activity/DestinationActivity';
import { useActivityPage } from '../pages/activity/useActivityPage';
import { useActivitySources } from '../pages/activity/useDestinationActivity';
import { destinationName } from '../pages/shared/destinationText';

/**
 * Viewport `stripe.dashboard.drawer.default`: what the sync did lately, and what needs a replay — in HubSpot, or in
 * one of the other destinations (Klaviyo, Loops, Intercom, Salesforce) chosen in the filter. Finishes the way back of
 * "Connect with HubSpot" and of a destination's "Connect with …" when the Dashboard opens the drawer with it.
 */
export function ActivityView(props: ExtensionContextValue) {
  const vm = useActivityPage(props);
  const sources = useActivitySources(props);
  const { load } = vm;
  const destination = sources.selected;
  const returning = vm.oauth.state.phase;
  // A portal HubSpot authorized is being finished or confirmed: that is what to show, not "not connected".
  const awaiting = returning === 'completing' || returning === 'confirm';
  // "Connected" is said only once the activity no longer says otherwise (it is reloaded after connecting).
  const showOAuth = returning !== 'connected' || load.status !== 'not_connected';
  return (
    <ContextView
      title={destination ? `${destinationName(destination)} sync activity` : 'HubSpot sync activity'}
      description={
        destination
          ? `What was written to ${destinationName(destination)}, and what it refused.`
          : 'Events received from Stripe and what happened in HubSpot.'
      }
    >
      <Box css={{ stack: 'y', gap: 'large' }}>
        <ModeNotice mode={vm.mode} subject="This activity is for" />
        {showOAuth ? <OAuthCompletionPanel oauth={vm.oauth} mode={vm.mode} /> : null}
        <DestinationOAuthPanel result={sources.oauthReturn} mode={vm.mode} />
        <ActivitySourceSelect model={sources} />
        {destination ? <DestinationActivity key={destination.id} {...props} destination={destination} /> : null}
        {destination ? null : (
          <Box css={{ stack: 'y', gap: 'large' }}>
            {load.status === 'loading' ? <Loading label="Loading activity…" /> : null}
            {load.status === 'error' ? (
              <LoadError title="Activity could not be loaded" error={load.error} onRetry={vm.reload} />
            ) : null}
            {load.status === 'not_connected' && !awaiting ? (
              <Box css={{ stack: 'y', gap: 'small' }}>
                <Banner
                  title="HubSpot is not connected"
                  description={`Connect a HubSpot portal for ${vm.mode} mode in this app’s settings to start syncing.`}
                />
                <Box>
                  <Link href={appSettingsUrl(vm.mode)}>Open the app’s settings to connect HubSpot</Link>
                </Box>
              </Box>
            ) : null}
            {load.status === 'ready' ? (
              <Box css={{ stack: 'y', gap: 'large' }}>
                <Counts counts={load.data.counts24h} />
                <Divider />
                {vm.replayNotice ? <Banner type="default" title="Replay" description={vm.replayNotice} /> : null}
                {vm.replayError ? <Banner type="critical" title="Replay" description={vm.replayError} /> : null}
                <DeadLetters
                  items={load.data.deadLetters}
                  replaying={vm.replaying}
                  onReplay={vm.replayOne}
                  onReplayAll={vm.replayAll}
                />
                <FailedEvents
                  items={load.data.failedEvents}
                  replaying={vm.replaying}
                  onReplay={vm.replayEvent}
                  onReplayAll={vm.replayAllEvents}
                />
                <Divider />
                <Box css={{ stack: 'y', gap: 'small' }}>
                  <Box css={{ stack: 'x', distribute: 'space-between', alignY: 'bottom' }}>
                    <Box css={{ font: 'heading' }}>Recent events</Box>
                    <Button size="small" onPress={vm.reload} pending={vm.refreshing}>
                      Refresh
                    </Button>
                  </Box>
                  <OutcomeFilterSelect value={vm.filter} onChange={vm.setFilter} />
                  {vm.eventsLoading ? (
                    <Loading label="Loading events…" />
                  ) : (
                    <EventRows events={load.data.events} filter={vm.filter} />
                  )}
                </Box>
              </Box>
            ) : null}
          </Box>
        )}
      </Box>
    </ContextView>
  );
}

export default ActivityView;
