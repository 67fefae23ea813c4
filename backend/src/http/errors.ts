import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { ApiErrorCode } from '@stripe-hubspot-sync/contracts';
import type { Logger } from '../logger';

/**
 * Every error answer is `{error:{code,message}}`. The codes are the API's (`contracts/api.ts`) plus the
 * service-level ones below.
 */
export type ErrorCode = ApiErrorCode;

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** Throw from a handler to answer `status` with that code and message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendError(res: Response, status: number, code: ErrorCode, message: string): void {
  const body: ErrorBody = { error: { code, message } };
  res.status(status).json(body);
}

/** Errors of express's body parsers (`type` set by body-parser) as our codes. */
export function bodyParserError(err: unknown): HttpError | undefined {
  const e = err as { type?: unknown; status?: unknown } | null;
  if (!e) return undefined;
  switch (e.type) {
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'The request body is larger than the limit.');
    case 'entity.parse.failed':
      return new HttpError(400, 'malformed_json', 'The body is not valid JSON.');
    default:
      return typeof e.status === 'number' && e.status >= 400 && e.status < 500
        ? new HttpError(e.status, 'bad_request', 'The request body could not be read.')
        : undefined;
  }
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, 'not_found', `No route for ${req.method} ${req.path}.`);
};

/** The last middleware: known errors answer their code; anything else is logged and answers 500 `internal`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const known = err instanceof HttpError ? err : bodyParserError(err);
    if (known) {
      sendError(res, known.status, known.code, known.message);
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
    sendError(res, 500, 'internal', 'Something went wrong on our side.');
  };
}
