import type { Response } from 'express';
import type { ApiError, ApiErrorCode } from '@stripe-hubspot-sync/contracts';

/** Every error answer of our HTTP API: `{error:{code,message,details?}}`. */
export function sendError(
  res: Response,
  status: number,
  code: ApiErrorCode,
  message: string,
  details?: { path: string; message: string }[],
): void {
  const body: ApiError = { error: { code, message, ...(details ? { details } : {}) } };
  res.status(status).json(body);
}
