/**
 * Links to records in HubSpot's own app (pure). A record's page is
 * `https://<app host>/contacts/<portal id>/record/<object type id>/<record id>` — `0-1` contacts, `0-2` companies,
 * `0-3` deals — on the host of the data centre ("hublet") the portal lives in: `app.hubspot.com` for `na1`,
 * `app-<hublet>.hubspot.com` for the others (e.g. `app-eu1.hubspot.com` for portals hosted in the EU).
 *
 * What tells the hublet: a private-app token names it (`pat-<hublet>-…`, e.g. `pat-eu1-…`); an OAuth install's
 * `hub_domain` names it only when it is one of HubSpot's own hosted domains (`<id>.hs-sites-eu1.com`), not when
 * it is the portal's own website domain. Unknown: `na1`, HubSpot's default data centre.
 */

export const HUBSPOT_OBJECT_TYPE = { contact: '0-1', company: '0-2', deal: '0-3' } as const;
export type HubSpotRecordKind = keyof typeof HUBSPOT_OBJECT_TYPE;

/** A hublet: two letters and a number (na1, eu1, ap1 …). */
const HUBLET = /^[a-z]{2}\d{1,2}$/;
const DEFAULT_HUBLET = 'na1';

/** The hublet a private-app token was issued in (`pat-eu1-…` → `eu1`), or null when the token does not say. */
export function hubletOfToken(token: string | null | undefined): string | null {
  const m = /^pat-([a-z]{2}\d{1,2})-/i.exec(token ?? '');
  return m ? m[1]!.toLowerCase() : null;
}

/** The hublet an install's `hub_domain` names (HubSpot's hosted `…hs-sites-<hublet>.com`), or null when it does not. */
export function hubletOfHubDomain(hubDomain: string | null | undefined): string | null {
  const m = /(?:^|\.)hs-sites-([a-z]{2}\d{1,2})\.com\.?$/i.exec((hubDomain ?? '').trim());
  return m ? m[1]!.toLowerCase() : null;
}

/** The origin of HubSpot's app for a hublet: `https://app.hubspot.com` for na1 or an unknown one. */
export function hubspotAppOrigin(hublet: string | null | undefined): string {
  const h = (hublet ?? '').toLowerCase();
  if (!HUBLET.test(h) || h === DEFAULT_HUBLET) return 'https://app.hubspot.com';
  return `https://app-${h}.hubspot.com`;
}

/**
 * A record's page in HubSpot, or null when the portal or record id is not one HubSpot gives (a link is then left
 * out rather than pointing anywhere else).
 */
export function hubspotRecordUrl(origin: string, portalId: number, kind: HubSpotRecordKind, recordId: string): string | null {
  if (!Number.isSafeInteger(portalId) || portalId <= 0 || !/^\d{1,30}$/.test(recordId)) return null;
  return `${origin}/contacts/${portalId}/record/${HUBSPOT_OBJECT_TYPE[kind]}/${recordId}`;
}
