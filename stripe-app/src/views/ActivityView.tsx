import { Banner, Box, Button, ContextView, Divider, Link } from '@stripe/ui-extension-sdk/ui';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { ModeNotice } from '../components/ModeNotice';
import { OAuthCompletionPanel } from '../components/OAuthCompletionPanel';
import { LoadError, Loading } from '../components/States';
import { appSettingsUrl } from '../links';
import { Counts, DeadLetters, EventRows, FailedEvents, OutcomeFilterSelect } from '../pages/activity/ActivitySections';
import { useActivityPage } from '../pages/activity/useActivityPage';

/** Viewport `stripe.dashboard.drawer.default`: what the sync did lately, and what needs a replay. */
export function ActivityView(props: ExtensionContextValue) {
  const vm = useActivityPage(props);
  const { load } = vm;
  const returning = vm.oauth.state.phase;
  // A portal HubSpot authorized is being finished or confirmed: that is what to show, not "not connected".
  const awaiting = returning === 'completing' || returning === 'confirm';
  // "Connected" is said only once the activity no longer says otherwise (it is reloaded after connecting).
  const showOAuth = returning !== 'connected' || load.status !== 'not_connected';
  return (
    <ContextView title="HubSpot sync activity" description="Events received from Stripe and what happened in HubSpot.">
      <Box css={{ stack: 'y', gap: 'large' }}>
        <ModeNotice mode={vm.mode} subject="This activity is for" />
        {showOAuth ? <OAuthCompletionPanel oauth={vm.oauth} mode={vm.mode} /> : null}
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
    </ContextView>
  );
}

export default ActivityView;
