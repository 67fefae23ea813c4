import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Tokens at rest: AES-256-GCM with a random 12-byte IV per value and its 16-byte auth tag, the key from
 * TOKEN_ENCRYPTION_KEY (32 bytes, as 64 hex characters or base64). An optional `context` (additional
 * authenticated data) binds a value to where it is stored, so a value copied to another row or column does not
 * decrypt. Any change to a sealed value fails loudly with `TokenDecryptionError`.
 *
 * Sealed form: `v1.<iv>.<tag>.<ciphertext>` (base64url).
 */

export interface TokenCipher {
  encrypt(plain: string, context?: string): string;
  decrypt(sealed: string, context?: string): string;
}

export class TokenDecryptionError extends Error {
  override readonly name = 'TokenDecryptionError';
  constructor(reason: string) {
    super(`Stored token cannot be decrypted: ${reason}`);
  }
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The 32-byte key of TOKEN_ENCRYPTION_KEY; throws (without echoing the value) when it is not one. */
export function parseEncryptionKey(raw: string): Buffer {
  const value = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(value)) {
    const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  throw new Error(
    'TOKEN_ENCRYPTION_KEY must be 32 random bytes, as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)',
  );
}

export function createTokenCipher(key: string | Buffer): TokenCipher {
  const k = typeof key === 'string' ? parseEncryptionKey(key) : key;
  if (k.length !== 32) throw new Error('The token encryption key must be 32 bytes');

  return {
    encrypt(plain, context = '') {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', k, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    decrypt(sealed, context = '') {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== VERSION) throw new TokenDecryptionError('unknown format');
      const [iv, tag, data] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
      if (iv!.length !== IV_BYTES || tag!.length !== TAG_BYTES) throw new TokenDecryptionError('malformed value');
      try {
        const decipher = createDecipheriv('aes-256-gcm', k, iv!, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tag!);
        return Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
      } catch {
        throw new TokenDecryptionError('authentication failed (tampered value, another key, or another context)');
      }
    },
  };
}
