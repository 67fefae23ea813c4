import { invalidRequest } from './errors';

/**
 * Form-encoded parameters as the stripe SDK sends them on GET: `a=1`, `created[gte]=1`,
 * `expand[0]=x` (also `expand[]=x`), brackets plain or percent-encoded.
 */

export type Params = Record<string, unknown>;

const UNSAFE = new Set(['__proto__', 'prototype', 'constructor']);

export function parseQuery(search: string): Params {
  const out: Params = {};
  const raw = search.startsWith('?') ? search.slice(1) : search;
  if (!raw) return out;
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1));
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    if (!m) throw invalidRequest(`Invalid parameter name: ${key}`, 'parameter_unknown', key);
    const path = [m[1] as string, ...[...(m[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1] as string)];
    if (path.some((p) => UNSAFE.has(p))) throw invalidRequest(`Received unknown parameter: ${key}`, 'parameter_unknown', key);
    assign(out, path, value);
  }
  return out;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw invalidRequest(`Invalid URL encoding: ${s}`);
  }
}

function assign(target: Params, path: string[], value: string): void {
  let node: Params | unknown[] = target;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] as string;
    if (typeof node !== 'object' || node === null) throw invalidRequest(`Invalid parameter: ${path.join('.')}`, undefined, path[0]);
    const last = i === path.length - 1;
    const nextIsIndex = !last && /^\d*$/.test(path[i + 1] as string);
    if (Array.isArray(node)) {
      const idx = seg === '' ? node.length : Number(seg);
      if (last) node[idx] = value;
      else node = (node[idx] ??= nextIsIndex ? [] : {}) as Params | unknown[];
    } else {
      if (last) node[seg] = value;
      else node = (node[seg] ??= nextIsIndex ? [] : {}) as Params | unknown[];
    }
  }
}

/** 400 `parameter_unknown` for any parameter outside `allowed`, as Stripe answers. */
export function rejectUnknown(q: Params, allowed: readonly string[]): void {
  for (const key of Object.keys(q)) {
    if (!allowed.includes(key)) throw invalidRequest(`Received unknown parameter: ${key}`, 'parameter_unknown', key);
  }
}

export function readInteger(value: unknown, param: string): number {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
    throw invalidRequest(`Invalid integer: ${typeof value === 'string' ? value : JSON.stringify(value)}`, 'parameter_invalid_integer', param);
  }
  return Number(value);
}

/** `limit`: 1..100, default 10. */
export function readLimit(q: Params): number {
  if (q.limit === undefined) return 10;
  const n = readInteger(q.limit, 'limit');
  if (n < 1) throw invalidRequest('This value must be greater than or equal to 1.', 'parameter_invalid_integer', 'limit');
  if (n > 100) throw invalidRequest('This value must be less than or equal to 100.', 'parameter_invalid_integer', 'limit');
  return n;
}

export function readString(q: Params, param: string): string | undefined {
  const v = q[param];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidRequest(`Invalid string: ${JSON.stringify(v)}`, 'parameter_invalid_string', param);
  if (v === '') throw invalidRequest(`You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`, 'parameter_invalid_empty', param);
  return v;
}

export function readStringArray(q: Params, param: string): string[] | undefined {
  const v = q[param];
  if (v === undefined) return undefined;
  const arr = Array.isArray(v) ? v.filter((x) => x !== undefined) : null;
  if (!arr || arr.some((x) => typeof x !== 'string')) throw invalidRequest(`Invalid array`, 'parameter_invalid_array', param);
  return arr as string[];
}

export function readEnum<T extends string>(q: Params, param: string, values: readonly T[]): T | undefined {
  const v = readString(q, param);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) {
    throw invalidRequest(`Invalid ${param}: must be one of ${values.join(', ')}`, undefined, param);
  }
  return v as T;
}

export function readBoolean(q: Params, param: string): boolean | undefined {
  const v = readString(q, param);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw invalidRequest(`Invalid boolean: ${v}`, 'parameter_invalid_boolean', param);
  return v === 'true';
}

export type Range = { gt?: number; gte?: number; lt?: number; lte?: number };

/** `created=123` (exact) or `created[gt|gte|lt|lte]=123`, as a predicate on a unix timestamp. */
export function readRange(q: Params, param: string): ((t: number) => boolean) | undefined {
  const v = q[param];
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    const exact = readInteger(v, param);
    return (t) => t === exact;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidRequest(`Invalid ${param}`, undefined, param);
  const r: Range = {};
  for (const [op, raw] of Object.entries(v)) {
    if (op !== 'gt' && op !== 'gte' && op !== 'lt' && op !== 'lte') {
      throw invalidRequest(`Received unknown parameter: ${param}[${op}]`, 'parameter_unknown', `${param}[${op}]`);
    }
    r[op] = readInteger(raw, `${param}[${op}]`);
  }
  return (t) =>
    (r.gt === undefined || t > r.gt) && (r.gte === undefined || t >= r.gte) &&
    (r.lt === undefined || t < r.lt) && (r.lte === undefined || t <= r.lte);
}
