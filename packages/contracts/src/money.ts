/**
 * Money in Stripe's minor units, converted exactly. No dependencies: the backend, the Stripe App and the
 * HubSpot card all import this file.
 *
 * Stripe writes every amount as an integer in the currency's minor unit (https://docs.stripe.com/currencies):
 * - most currencies have two decimals: 1999 usd = 19.99 USD;
 * - zero-decimal currencies take the amount as is: 500 jpy = 500 JPY;
 * - three-decimal currencies: 1005 kwd = 1.005 KWD (Stripe wants the last digit 0 when charging, but reports
 *   whatever the amount is).
 * Special cases, from the "Special cases" table of that page:
 * - ISK and UGX "transitioned to a zero-decimal currency, but backwards compatibility requires you to represent
 *   it as a two-decimal value, where the decimal amount is always 00": the API exponent is 2 (500 isk = 5 ISK),
 *   shown without decimals. UGX is also printed in the page's zero-decimal list; the special-case rule (two
 *   decimals in the API) is the one that states how amounts are written, so we follow it.
 * - HUF and TWD are zero-decimal for payouts only; charges are two-decimal amounts: exponent 2.
 */

const ZERO_DECIMAL = new Set([
  'BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'VND', 'VUV', 'XAF', 'XOF', 'XPF',
]);
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);
/** Two decimals in the API, whole units in practice: shown without decimals when the amount is whole. */
const WHOLE_UNITS_IN_TWO_DECIMALS = new Set(['ISK', 'UGX']);

const CURRENCY_CODE = /^[A-Za-z]{3}$/;

function normalise(currency: string): string {
  if (typeof currency !== 'string' || !CURRENCY_CODE.test(currency)) {
    throw new RangeError(`Invalid currency code: ${JSON.stringify(currency)} (expected a three-letter ISO code)`);
  }
  return currency.toUpperCase();
}

/** Number of decimals of Stripe's minor unit for `currency` (case-insensitive): 0, 2 or 3. Unknown codes: 2. */
export function currencyExponent(currency: string): 0 | 2 | 3 {
  const code = normalise(currency);
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

export function isZeroDecimalCurrency(currency: string): boolean {
  return currencyExponent(currency) === 0;
}

const DECIMAL_STRING = /^(-?)(\d+)(?:\.(\d+))?$/;

/** The digits of an integer number or a decimal string, exactly; throws on anything else. */
function parseMinor(minor: number | string): { negative: boolean; int: string; frac: string } {
  let text: string;
  if (typeof minor === 'number') {
    if (!Number.isFinite(minor) || !Number.isInteger(minor)) {
      throw new RangeError(`Invalid minor amount: ${String(minor)} (expected an integer)`);
    }
    text = BigInt(minor).toString();
  } else if (typeof minor === 'string') {
    text = minor.trim();
  } else {
    throw new RangeError(`Invalid minor amount: ${JSON.stringify(minor)}`);
  }
  const m = DECIMAL_STRING.exec(text);
  if (!m) throw new RangeError(`Invalid minor amount: ${JSON.stringify(minor)} (expected digits)`);
  return { negative: m[1] === '-', int: m[2] ?? '0', frac: m[3] ?? '' };
}

/**
 * Exact decimal string of a minor amount: 1999 usd → "19.99", 500 jpy → "500", 1005 kwd → "1.005",
 * 5 usd → "0.05", -250 eur → "-2.50". Accepts an integer number or a decimal string of minor units (as in
 * Stripe's `unit_amount_decimal`: "12.5" usd → "0.125"). Always at least the currency's decimals.
 */
export function minorToDecimalString(minor: number | string, currency: string): string {
  const exponent = currencyExponent(currency);
  const { negative, int, frac } = parseMinor(minor);
  const padded = int.padStart(exponent + 1, '0');
  const whole = padded.slice(0, padded.length - exponent).replace(/^0+(?=\d)/, '');
  const fraction = (padded.slice(padded.length - exponent) + frac).replace(/0+$/, '').padEnd(exponent, '0');
  const body = fraction ? `${whole}.${fraction}` : whole;
  const isZero = /^[0.]*$/.test(body);
  return negative && !isZero ? `-${body}` : body;
}

/** The amount as a number of major units (the nearest double to the exact decimal). */
export function minorToDecimal(minor: number | string, currency: string): number {
  return Number(minorToDecimalString(minor, currency));
}

/** Major units (a decimal string such as "19.99") → integer minor units; throws when it has more decimals. */
export function decimalToMinor(decimal: string, currency: string): number {
  const exponent = currencyExponent(currency);
  const m = DECIMAL_STRING.exec(typeof decimal === 'string' ? decimal.trim() : '');
  if (!m) throw new RangeError(`Invalid decimal amount: ${JSON.stringify(decimal)}`);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > exponent) {
    throw new RangeError(`${decimal} has more decimals than ${currency.toUpperCase()} allows (${exponent})`);
  }
  const value = Number(`${m[2]}${frac.padEnd(exponent, '0')}`);
  return m[1] === '-' && value !== 0 ? -value : value;
}

/** Decimals to show: the exponent, except ISK/UGX whole amounts (always "…00" in the API) show none. */
function displayDigits(minor: number | string, code: string): number {
  const exponent = currencyExponent(code);
  if (!WHOLE_UNITS_IN_TWO_DECIMALS.has(code)) return exponent;
  const { int, frac } = parseMinor(minor);
  return int.endsWith('00') || int === '0' ? (/^0*$/.test(frac) ? 0 : exponent) : exponent;
}

/**
 * A localised money string with the currency's own number of decimals, through Intl:
 * formatMoney(1999, 'usd') → "$19.99", formatMoney(500, 'JPY') → "¥500", formatMoney(1005, 'kwd') → "KWD 1.005".
 */
export function formatMoney(minor: number | string, currency: string, locale = 'en-US'): string {
  const code = normalise(currency);
  const digits = displayDigits(minor, code);
  const value = Number(minorToDecimalString(minor, code));
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: code,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}
