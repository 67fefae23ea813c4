import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

/**
 * Intercom's published OpenAPI document, version 2.14 (`specs/intercom/api.intercom.io-2.14.yaml` at the repository
 * root, copied verbatim), as the fake Intercom holds requests and its own answers to it. OpenAPI 3.0's `nullable`
 * is turned into JSON Schema (`type: [t, 'null']`) when loaded; formats are not checked (`date-time` is used on
 * integer unix timestamps throughout the document).
 */

export const INTERCOM_SPEC_FILE = join(__dirname, '..', '..', '..', '..', 'specs', 'intercom', 'api.intercom.io-2.14.yaml');
export const INTERCOM_SPEC_VERSION = '2.14';

type Json = Record<string, unknown>;

/**
 * Errata, applied when loaded. `create_data_event_request.metadata` is typed `additionalProperties: {type: string}`
 * while the operation's own description (`POST /events`) documents String, Number, Date (a number under a key
 * ending in `_date`), Link, Rich Link (`{url, value}`) and Monetary Amount (`{amount, currency}`, amount a positive
 * integer in cents) values, and "we do not currently support nested JSON structure" beyond those: held to the
 * description.
 */
function applyErrata(doc: Json): void {
  const schemas = (doc.components as Json).schemas as Record<string, Json>;
  const event = schemas.create_data_event_request!;
  const metadata = (event.properties as Record<string, Json>).metadata!;
  metadata.additionalProperties = {
    oneOf: [
      { type: 'string' },
      { type: 'number' },
      { type: 'object', required: ['url', 'value'], additionalProperties: false, properties: { url: { type: 'string' }, value: { type: 'string' } } },
      {
        type: 'object',
        required: ['amount', 'currency'],
        additionalProperties: false,
        properties: { amount: { type: 'integer', minimum: 1 }, currency: { type: 'string', minLength: 3, maxLength: 3 } },
      },
    ],
  };
}

let doc: Json | undefined;
let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction | null>();

/** OpenAPI 3.0 → JSON Schema where it matters here: `nullable: true` admits null; `$ref`s point into the document. */
function normalize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalize);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === 'nullable' || k === 'example' || k === 'examples') continue;
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `intercom.json${v}` : normalize(v);
  }
  const n = node as Json;
  if (n.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (out.$ref || out.allOf || out.oneOf || out.anyOf) return { anyOf: [out, { type: 'null' }] };
    if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
  }
  return out;
}

export function intercomSpec(): Json {
  if (!doc) {
    doc = parse(readFileSync(INTERCOM_SPEC_FILE, 'utf8')) as Json;
    applyErrata(doc);
  }
  return doc;
}

function compiler(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ components: normalize(intercomSpec().components) } as Json, 'intercom.json');
  }
  return ajv;
}

/** The operation of the document at `path` (as written there, e.g. `/contacts/{contact_id}`) and `method`. */
export function operation(path: string, method: string): Json {
  const paths = intercomSpec().paths as Record<string, Record<string, Json>>;
  const op = paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`fake Intercom: no operation ${method.toUpperCase()} ${path} in the published spec`);
  return op;
}

function compile(key: string, schema: Json | undefined): ValidateFunction | null {
  if (!validators.has(key)) validators.set(key, schema ? compiler().compile(normalize(schema) as Json) : null);
  return validators.get(key) ?? null;
}

/** Null when `body` matches the operation's JSON request schema, else a message naming the first problem. */
export function requestBodyProblem(path: string, method: string, body: unknown): string | null {
  const content = (operation(path, method).requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
  const validate = compile(`req ${method} ${path}`, content?.['application/json']?.schema as Json | undefined);
  if (!validate) return null;
  if (body === undefined || body === null) return 'Request body is missing or is not valid JSON';
  return validate(body) ? null : describe(validate.errors ?? []);
}

/** Null when `body` matches the schema the operation documents for `status` (or none is documented). */
export function answerProblem(path: string, method: string, status: number, body: unknown): string | null {
  const responses = operation(path, method).responses as Record<string, Json>;
  const content = responses[String(status)]?.content as Record<string, Json> | undefined;
  const validate = compile(`res ${status} ${method} ${path}`, content?.['application/json']?.schema as Json | undefined);
  if (!validate) return null;
  return validate(body) ? null : describe(validate.errors ?? []);
}

/** The versions the document's `Intercom-Version` header admits. */
export function intercomVersions(): string[] {
  const schemas = (intercomSpec().components as Json).schemas as Record<string, Json>;
  return (schemas.intercom_version!.enum as string[]).slice();
}

function describe(errors: ErrorObject[]): string {
  const first = errors.find((e) => e.keyword === 'required') ?? errors.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf') ?? errors[0];
  if (!first) return 'Request body is invalid';
  const where = first.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : 'body';
  if (first.keyword === 'required') return `${(first.params as { missingProperty: string }).missingProperty} is required`;
  return `${where} ${first.message ?? 'is invalid'}`;
}
