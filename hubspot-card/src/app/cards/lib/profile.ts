/**
 * What the card learns from the project profile it was uploaded with (`hs project upload --profile <name>`):
 * HubSpot hands the profile's variables to the card at runtime as `context.variables` (src/hsprofile.*.json).
 *
 * - `BACKEND_URL`: where our backend lives, HTTPS, no trailing slash. The same profile puts
 *   `${BACKEND_URL}/api/card/v1/` in the app's `permittedUrls.fetch`, so the card can call nothing else.
 * - `DISTRIBUTION`: `marketplace` (the app from the HubSpot Marketplace, connected from the Stripe App) or
 *   `private` (a merchant's self-hosted copy of the app, connected by whoever runs the backend).
 */

export type Distribution = 'marketplace' | 'private';

export interface CardProfile {
  /** null when the profile did not give a usable HTTPS URL: the card cannot call anything then. */
  backendUrl: string | null;
  distribution: Distribution;
}

type Variables = Record<string, string | number | bigint | boolean> | undefined;

export function cardProfile(variables: Variables): CardProfile {
  return { backendUrl: backendUrlOf(variables?.BACKEND_URL), distribution: variables?.DISTRIBUTION === 'private' ? 'private' : 'marketplace' };
}

/** An https://host[/path] URL without query or fragment, trailing slashes removed; else null. */
function backendUrlOf(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const url = value.trim().replace(/\/+$/, '');
  if (!/^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url)) return null;
  try {
    return new URL(url).protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}
