/** Klaviyo's OAuth tokens come from the destinations' shared token source (see oauth-token-source.ts). */
export { createDbTokenSource, type DbTokenSourceOptions } from '../destinations/oauth-token-source';
