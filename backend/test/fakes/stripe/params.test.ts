import { parseQuery } from './params';
import { StripeHttpError } from './errors';

describe('parseQuery (form encoding as the stripe SDK sends it)', () => {
  it('reads scalars, bracketed objects and arrays, encoded or not', () => {
    expect(parseQuery('?limit=100&created[gte]=5&created%5Blt%5D=9&expand[0]=data.customer&expand[1]=x&types[]=a&types[]=b&email=a%2Bb%40example.com'))
      .toEqual({ limit: '100', created: { gte: '5', lt: '9' }, expand: ['data.customer', 'x'], types: ['a', 'b'], email: 'a+b@example.com' });
    expect(parseQuery('')).toEqual({});
  });

  it('refuses prototype keys and conflicting shapes with a 400', () => {
    for (const q of ['__proto__[x]=1', 'a=1&a[b]=2', 'a[b=1']) {
      expect(() => parseQuery(q)).toThrow(StripeHttpError);
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
