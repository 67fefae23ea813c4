/**
 * The one place the card reaches the shared API contract (backend/src/contracts). Everything the card needs from
 * it is re-exported here, so the rest of the card imports `./contracts` and never a backend path.
 *
 * Only `formatMoney` and `CARD_API_PREFIX` are runtime imports; the rest are types and vanish at build time.
 */
export type {
  ApiError,
  ApiErrorCode,
  CardRequest,
  CardResponse,
  CustomerStatus,
  PaymentSummary,
  SubscriptionSummary,
} from '../../../../../backend/src/contracts/api';
export { CARD_API_PREFIX } from '../../../../../backend/src/contracts/api';
export type { PaymentStatusValue, SubscriptionStatusValue } from '../../../../../backend/src/contracts/catalog';
export { formatMoney } from '../../../../../backend/src/contracts/money';
