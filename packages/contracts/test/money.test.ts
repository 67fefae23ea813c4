import fc from 'fast-check';
import {
  currencyExponent,
  decimalToMinor,
  formatMoney,
  isZeroDecimalCurrency,
  minorToDecimal,
  minorToDecimalString,
} from '../src/money';

describe('currencyExponent', () => {
  it('knows zero-, two- and three-decimal currencies, case-insensitively', () => {
    for (const c of ['jpy', 'JPY', 'krw', 'vnd', 'clp', 'xof', 'bif']) expect(currencyExponent(c)).toBe(0);
    for (const c of ['usd', 'EUR', 'gbp', 'huf', 'twd', 'isk', 'ugx', 'xyz']) expect(currencyExponent(c)).toBe(2);
    for (const c of ['bhd', 'JOD', 'kwd', 'omr', 'tnd']) expect(currencyExponent(c)).toBe(3);
    expect(isZeroDecimalCurrency('Jpy')).toBe(true);
    expect(isZeroDecimalCurrency('usd')).toBe(false);
  });

  it('rejects what is not a three-letter code', () => {
    for (const bad of ['', 'us', 'usdd', 'u$d', '123']) expect(() => currencyExponent(bad)).toThrow(RangeError);
    expect(() => currencyExponent(null as unknown as string)).toThrow(/Invalid currency code/);
  });
});

describe('minorToDecimalString', () => {
  it('converts exactly, by currency', () => {
    expect(minorToDecimalString(1999, 'usd')).toBe('19.99');
    expect(minorToDecimalString(500, 'jpy')).toBe('500');
    expect(minorToDecimalString(1005, 'kwd')).toBe('1.005');
    expect(minorToDecimalString(5, 'usd')).toBe('0.05');
    expect(minorToDecimalString(0, 'usd')).toBe('0.00');
    expect(minorToDecimalString(0, 'jpy')).toBe('0');
    expect(minorToDecimalString(7, 'bhd')).toBe('0.007');
    expect(minorToDecimalString(-250, 'eur')).toBe('-2.50');
    expect(minorToDecimalString(500, 'isk')).toBe('5.00');
    expect(minorToDecimalString(2000, 'USD')).toBe('20.00');
  });

  it('has no float artefacts where floats would', () => {
    expect(minorToDecimalString(30, 'usd')).toBe('0.30');
    expect(minorToDecimalString(1_000_000_000_000_001, 'usd')).toBe('10000000000000.01');
    expect(minorToDecimalString(2 ** 60, 'usd')).toBe('11529215046068469.76');
  });

  it('takes decimal strings of minor units (unit_amount_decimal)', () => {
    expect(minorToDecimalString('12.5', 'usd')).toBe('0.125');
    expect(minorToDecimalString('2000', 'usd')).toBe('20.00');
    expect(minorToDecimalString('0.25', 'jpy')).toBe('0.25');
    expect(minorToDecimalString('-0', 'usd')).toBe('0.00');
  });

  it('rejects non-integers and non-numbers with a clear error', () => {
    expect(() => minorToDecimalString(1.5, 'usd')).toThrow(/expected an integer/);
    expect(() => minorToDecimalString(Number.NaN, 'usd')).toThrow(RangeError);
    expect(() => minorToDecimalString(Infinity, 'usd')).toThrow(RangeError);
    expect(() => minorToDecimalString('1e5', 'usd')).toThrow(RangeError);
    expect(() => minorToDecimalString('abc', 'usd')).toThrow(RangeError);
  });

  it('round-trips with decimalToMinor for any safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.constantFrom('usd', 'jpy', 'kwd', 'isk'), (n, cur) => {
        const s = minorToDecimalString(n, cur);
        expect(s).toMatch(/^-?\d+(\.\d+)?$/);
        expect(decimalToMinor(s, cur)).toBe(n);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with division for amounts where floats are exact enough', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.constantFrom('usd', 'jpy', 'kwd'), (n, cur) => {
        expect(minorToDecimal(n, cur)).toBeCloseTo(n / 10 ** currencyExponent(cur), 6);
      }),
      { numRuns: 200 },
    );
  });
});

describe('decimalToMinor', () => {
  it('converts major units to minor units and refuses extra decimals', () => {
    expect(decimalToMinor('19.99', 'usd')).toBe(1999);
    expect(decimalToMinor('500', 'jpy')).toBe(500);
    expect(decimalToMinor('1.005', 'kwd')).toBe(1005);
    expect(() => decimalToMinor('1.5', 'jpy')).toThrow(/more decimals/);
    expect(() => decimalToMinor('1.001', 'usd')).toThrow(/more decimals/);
    expect(decimalToMinor('2.500', 'usd')).toBe(250);
  });
});

describe('formatMoney', () => {
  it('formats with the currency’s decimals', () => {
    expect(formatMoney(1999, 'usd')).toBe('$19.99');
    expect(formatMoney(500, 'jpy')).toBe('¥500');
    expect(formatMoney(1005, 'kwd')).toMatch(/^KWD\s1\.005$/);
    expect(formatMoney(123456, 'eur', 'de-DE')).toMatch(/^1\.234,56\s€$/);
    expect(formatMoney(500, 'isk')).toMatch(/^ISK\s5$/);
    expect(formatMoney(550, 'isk')).toMatch(/^ISK\s5\.50$/);
    expect(formatMoney(1000, 'huf')).toMatch(/^HUF\s10\.00$/);
  });

  it('rejects invalid currency codes', () => {
    expect(() => formatMoney(100, 'dollars')).toThrow(RangeError);
  });
});
