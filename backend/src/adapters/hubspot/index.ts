/** The HubSpot adapter: safe HubSpot writes (rate budget, retries, batches) and HubSpot connections. */
export { createHubSpotAdapter, staticTokenAuth, type HubSpotAdapter, type HubSpotAdapterOptions } from './adapter';
export { createCaller, DEFAULT_RETRY_POLICY, type CallHubSpot, type PortalAuth, type RetryPolicy, type SdkCall } from './call';
export { createHubSpotClients, DEFAULT_API_BASE_URL, type HubSpotClients, type SdkOptions } from './client';
export { createRateBudget, type CallKind, type RateBudget, type RateBudgetOptions } from './rate-budget';
export { bindPortal, type HubSpotPortal } from './portal';
export {
  HubSpotError,
  PermanentHubSpotError,
  RetryableHubSpotError,
  ConnectionHubSpotError,
  RateBudgetTimeoutError,
  asConnectionFailure,
  isHubSpotError,
  missingProperties,
  type RetryReason,
} from './errors';
export { createHubSpotMetrics, type HubSpotMetrics } from './metrics';
export {
  batchCreate,
  batchUpdate,
  batchUpsert,
  readByEmail,
  readByProperty,
  type BatchResult,
  type HubSpotContact,
} from './contacts';
export { ensurePropertyGroupAndProperties, type EnsurePropertiesReport, type PropertyDefinition } from './properties';
export { createTask, TASK_TO_CONTACT_ASSOCIATION_TYPE, type TaskInput } from './tasks';
export {
  buildInstallUrl,
  exchangeCode,
  getAccessTokenInfo,
  getAccountDetails,
  refreshAccessToken,
  revokeRefreshToken,
  HubSpotOAuthError,
  HUBSPOT_SCOPES,
  type OAuthAppConfig,
  type TokenSet,
} from './oauth';
export { createTokenCipher, parseEncryptionKey, TokenDecryptionError, type TokenCipher } from './crypto';
export { createInstallRegistry, type Install, type InstallKey, type InstallRegistry } from './installs';
export { hubspotGateway } from './gateway';
