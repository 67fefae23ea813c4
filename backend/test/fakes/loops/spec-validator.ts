import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * Request-body validation against Loops' published OpenAPI document (`specs/loops/openapi.json` at the repository
 * root; its paths are relative to the server `https://app.loops.so/api/v1`). Each operation's `requestBody` schema is
 * compiled with its `$ref`s resolved into the document's components. A body that breaks it gets Loops' documented
 * 400 shape `{ success: false, message }`.
 */

export const LOOPS_SPEC_FILE = join(__dirname, '..', '..', '..', '..', 'specs', 'loops', 'openapi.json');

type Json = Record<string, unknown>;

/**
 * Known errata of the published document, applied when it is loaded. `ContactDeleteRequest` lists both `email` and
 * `userId` as required, while the operation's own description says "Include only one of `email` or `userId`", the
 * `400` example is "`email` and `userId` are both provided" and Loops' SDK sends exactly one: held to exactly one.
 */
function applyErrata(doc: Json): void {
  const schemas = (doc.components as Json).schemas as Record<string, Json>;
  const del = schemas.ContactDeleteRequest!;
  delete del.required;
  del.oneOf = [{ required: ['email'], not: { required: ['userId'] } }, { required: ['userId'], not: { required: ['email'] } }];
}

let doc: Json | undefined;
let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction | null>();

function spec(): { doc: Json; ajv: Ajv } {
  if (!doc || !ajv) {
    doc = JSON.parse(readFileSync(LOOPS_SPEC_FILE, 'utf8')) as Json;
    applyErrata(doc);
    ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addSchema(doc, 'loops.json');
  }
  return { doc, ajv };
}

function anchorRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(anchorRefs);
  if (node && typeof node === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(node as Json)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `loops.json${v}` : anchorRefs(v);
    return out;
  }
  return node;
}

/** The operation of the document at `path` (as written there, e.g. `/contacts/update`) and `method`; throws when absent. */
export function operation(path: string, method: string): Json {
  const paths = spec().doc.paths as Record<string, Record<string, Json>>;
  const op = paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`fake Loops: no operation ${method.toUpperCase()} ${path} in the published spec`);
  return op;
}

function validatorFor(path: string, method: string): ValidateFunction | null {
  const key = `${method} ${path}`;
  if (!validators.has(key)) {
    const content = (operation(path, method).requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
    const schema = content?.['application/json']?.schema as Json | undefined;
    validators.set(key, schema ? spec().ajv.compile(anchorRefs(schema) as Json) : null);
  }
  return validators.get(key) ?? null;
}

/** Null when the body matches the operation's request schema, else Loops-style message naming the first problem. */
export function requestBodyProblem(path: string, method: string, body: unknown): string | null {
  const validate = validatorFor(path, method);
  if (!validate) return null;
  if (body === undefined) return 'Invalid request body.';
  if (validate(body)) return null;
  return describe(validate.errors ?? []);
}

/** The `maxLength` the document gives a header parameter of an operation (e.g. `Idempotency-Key`), if any. */
export function headerMaxLength(path: string, method: string, header: string): number | null {
  const params = (operation(path, method).parameters ?? []) as Json[];
  const p = params.find((x) => x.in === 'header' && String(x.name).toLowerCase() === header.toLowerCase());
  const max = (p?.schema as Json | undefined)?.maxLength;
  return typeof max === 'number' ? max : null;
}

function describe(errors: ErrorObject[]): string {
  const first = errors.find((e) => e.keyword === 'required') ?? errors[0];
  if (!first) return 'Invalid request body.';
  const where = first.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : 'body';
  if (first.keyword === 'required') return `Invalid request body: \`${(first.params as { missingProperty: string }).missingProperty}\` is required.`;
  return `Invalid request body: \`${where}\` ${first.message ?? 'is invalid'}.`;
}
