import type { Mode } from './data/contracts';

/** The app's id, as in stripe-app.json (a test keeps the two equal). */
export const APP_ID = 'com.stripe-hubspot-sync.app';

/**
 * This app's settings page in the Dashboard, in a mode (test-mode pages live under /test): where a merchant
 * connects HubSpot.
 */
export function appSettingsUrl(mode: Mode): string {
  return `https://dashboard.stripe.com/${mode === 'test' ? 'test/' : ''}settings/apps/${APP_ID}`;
}
