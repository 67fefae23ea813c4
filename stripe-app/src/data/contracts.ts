/**
 * The one door to the backend's shared contracts (request/response types, settings schema, catalogs).
 * The Stripe CLI bundles this relative import like any other source file; nothing is duplicated here.
 */
export * from '../../../backend/src/contracts';
