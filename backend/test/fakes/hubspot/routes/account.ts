import type { HandlerResult } from '../errors';
import type { Context, Route } from '../router';

/**
 * Account details for the portal the token acts for — how a private-app token learns its portal id
 * (`GET /account-info/v3/details`, and the legacy `GET /integrations/v1/me`). Not in our specs folder;
 * shapes from HubSpot's account information API docs.
 */

function details(ctx: Context): HandlerResult {
  return {
    status: 200,
    body: {
      portalId: ctx.portal.id,
      accountType: 'STANDARD',
      timeZone: 'US/Eastern',
      companyCurrency: 'USD',
      additionalCurrencies: [],
      utcOffset: '-05:00',
      utcOffsetMilliseconds: -18_000_000,
      uiDomain: 'app.hubspot.com',
      dataHostingLocation: 'na1',
    },
  };
}

function me(ctx: Context): HandlerResult {
  return {
    status: 200,
    body: { portalId: ctx.portal.id, timeZone: 'US/Eastern', currency: 'USD', utcOffsetMilliseconds: -18_000_000, utcOffset: '-05:00' },
  };
}

export const accountRoutes: Route[] = [
  { method: 'GET', path: '/account-info/v3/details', kind: 'crm', handler: details },
  { method: 'GET', path: '/integrations/v1/me', kind: 'crm', handler: me },
];
