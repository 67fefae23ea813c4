/**
 * Values as HubSpot's CRM API takes them (all property values are strings):
 * - `date` properties: epoch milliseconds of midnight UTC of the day ("1700006400000");
 * - `datetime` properties: epoch milliseconds ("1700000000000");
 * - `bool` properties: "true" / "false".
 * Anything that is not a valid input (null, undefined, NaN, a negative or absurdly large timestamp) gives null,
 * never "NaN" or "undefined": the caller decides what an absent value means.
 */

const MS_PER_DAY = 86_400_000;
/** 9999-12-31T23:59:59Z: the last second HubSpot (and ISO 8601 with four-digit years) can show. */
export const MAX_UNIX_SECONDS = 253_402_300_799;

/** A unix timestamp in seconds we accept: finite, 0 … 9999-12-31. Fractions are dropped. */
export function validUnixSeconds(seconds: unknown): number | null {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return null;
  const s = Math.floor(seconds);
  return s >= 0 && s <= MAX_UNIX_SECONDS ? s : null;
}

/** Unix seconds → HubSpot `date`: epoch ms of midnight UTC of that day, as a string. */
export function toHubSpotDate(seconds: unknown): string | null {
  const s = validUnixSeconds(seconds);
  if (s === null) return null;
  const ms = s * 1000;
  return String(ms - (ms % MS_PER_DAY));
}

/** Unix seconds → HubSpot `datetime`: epoch ms, as a string. */
export function toHubSpotDateTime(seconds: unknown): string | null {
  const s = validUnixSeconds(seconds);
  return s === null ? null : String(s * 1000);
}

/** A boolean → HubSpot `bool` ("true" / "false"); anything else → null. */
export function toHubSpotBool(value: unknown): 'true' | 'false' | null {
  return typeof value === 'boolean' ? (value ? 'true' : 'false') : null;
}

/** Unix seconds → ISO 8601 (for our own API and logs), or null. */
export function unixToIso(seconds: unknown): string | null {
  const s = validUnixSeconds(seconds);
  return s === null ? null : new Date(s * 1000).toISOString();
}
