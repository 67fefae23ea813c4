import fc from 'fast-check';
import { MAX_UNIX_SECONDS, toHubSpotBool, toHubSpotDate, toHubSpotDateTime, unixToIso } from './conversions';

describe('HubSpot date and datetime', () => {
  it('turns unix seconds into midnight UTC (date) and epoch ms (datetime)', () => {
    // 1700000000 = 2023-11-14T22:13:20Z
    expect(toHubSpotDate(1_700_000_000)).toBe(String(Date.UTC(2023, 10, 14)));
    expect(toHubSpotDateTime(1_700_000_000)).toBe('1700000000000');
    expect(toHubSpotDate(0)).toBe('0');
    expect(toHubSpotDateTime(0)).toBe('0');
    expect(toHubSpotDate(86_399)).toBe('0');
    expect(toHubSpotDate(86_400)).toBe('86400000');
    expect(toHubSpotDate(MAX_UNIX_SECONDS)).toBe(String(Date.UTC(9999, 11, 31)));
  });

  it('gives null, never "NaN", for what is not a timestamp', () => {
    for (const bad of [null, undefined, Number.NaN, Infinity, -1, MAX_UNIX_SECONDS + 1, 1e20, '1700000000', {}]) {
      expect(toHubSpotDate(bad)).toBeNull();
      expect(toHubSpotDateTime(bad)).toBeNull();
      expect(unixToIso(bad)).toBeNull();
    }
  });

  it('drops fractions of a second', () => {
    expect(toHubSpotDateTime(1.9)).toBe('1000');
  });

  it('always lands on midnight UTC of the same day', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_UNIX_SECONDS }), (s) => {
        const date = toHubSpotDate(s) as string;
        const datetime = toHubSpotDateTime(s) as string;
        expect(date).toMatch(/^\d+$/);
        const d = new Date(Number(date));
        expect(d.toISOString()).toMatch(/T00:00:00\.000Z$/);
        expect(d.toISOString().slice(0, 10)).toBe(new Date(Number(datetime)).toISOString().slice(0, 10));
      }),
      { numRuns: 200 },
    );
  });
});

describe('HubSpot bool', () => {
  it('writes "true"/"false" and nothing else', () => {
    expect(toHubSpotBool(true)).toBe('true');
    expect(toHubSpotBool(false)).toBe('false');
    expect(toHubSpotBool(null)).toBeNull();
    expect(toHubSpotBool('true')).toBeNull();
    expect(toHubSpotBool(1)).toBeNull();
  });
});
