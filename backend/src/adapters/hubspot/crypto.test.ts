import { randomBytes } from 'node:crypto';
import { createTokenCipher, parseEncryptionKey, TokenDecryptionError } from './crypto';

const key = randomBytes(32);

describe('token encryption', () => {
  it('round-trips, with a fresh IV for every value', () => {
    const cipher = createTokenCipher(key);
    const a = cipher.encrypt('CJ-secret-token', 'row-1');
    const b = cipher.encrypt('CJ-secret-token', 'row-1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('CJ-secret-token');
    expect(cipher.decrypt(a, 'row-1')).toBe('CJ-secret-token');
    expect(cipher.decrypt(b, 'row-1')).toBe('CJ-secret-token');
    expect(cipher.decrypt(cipher.encrypt(''))).toBe('');
  });

  it('fails loudly on any changed byte', () => {
    const cipher = createTokenCipher(key);
    const sealed = cipher.encrypt('token-value');
    const [v, iv, tag, data] = sealed.split('.') as [string, string, string, string];
    const flip = (s: string) => {
      const buf = Buffer.from(s, 'base64url');
      buf[0] = buf[0]! ^ 1;
      return buf.toString('base64url');
    };
    for (const tampered of [
      [v, flip(iv), tag, data],
      [v, iv, flip(tag), data],
      [v, iv, tag, flip(data)],
    ]) {
      expect(() => cipher.decrypt(tampered.join('.'))).toThrow(TokenDecryptionError);
    }
    expect(() => cipher.decrypt('v2.a.b.c')).toThrow(/unknown format/);
    expect(() => cipher.decrypt('plain-token')).toThrow(TokenDecryptionError);
  });

  it('binds a value to its context and its key', () => {
    const cipher = createTokenCipher(key);
    const sealed = cipher.encrypt('t', 'acct_1:live:access');
    expect(() => cipher.decrypt(sealed, 'acct_2:live:access')).toThrow(TokenDecryptionError);
    expect(() => createTokenCipher(randomBytes(32)).decrypt(sealed, 'acct_1:live:access')).toThrow(TokenDecryptionError);
  });

  it('reads the key as 64 hex characters or base64, and refuses anything else without echoing it', () => {
    expect(parseEncryptionKey(key.toString('hex'))).toEqual(key);
    expect(parseEncryptionKey(key.toString('base64'))).toEqual(key);
    expect(parseEncryptionKey(key.toString('base64url'))).toEqual(key);
    for (const bad of ['short-secret-value', randomBytes(16).toString('hex'), randomBytes(31).toString('base64')]) {
      let message = '';
      try {
        parseEncryptionKey(bad);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/TOKEN_ENCRYPTION_KEY must be 32 random bytes/);
      expect(message).not.toContain(bad);
    }
  });
});
