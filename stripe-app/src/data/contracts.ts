/**
 * The one door to the shared contracts (request/response types, settings schema, catalogs): the workspace package
 * `@stripe-hubspot-sync/contracts`, a declared dependency of this app. The Stripe CLI bundles it like any package.
 */
export * from '@stripe-hubspot-sync/contracts';
