import { createHmac } from 'node:crypto';
import { signableUri, verifyV3 } from './hubspot-signature';

const secret = 'client-secret-123';
const url = 'https://sync.example.com/api/card/v1/status?portalId=42&userId=7&userEmail=a%40b.com';
const body = '{"portalId":42,"contactId":"901"}';

/** HubSpot's recipe written out independently of the module: HMAC-SHA256 over method + decoded URI + body + ts. */
function hubspotSigns(method: string, uri: string, raw: string, ts: string, key = secret): string {
  return createHmac('sha256', key).update(method + uri + raw + ts).digest('base64');
}

describe('HubSpot signature v3', () => {
  const now = 1_760_000_000_000;
  const ts = String(now - 1000);
  const decodedUrl = 'https://sync.example.com/api/card/v1/status?portalId=42&userId=7&userEmail=a@b.com';
  const good = hubspotSigns('POST', decodedUrl, body, ts);
  const base = { secret, method: 'POST', url, rawBody: body, signature: good, timestamp: ts, nowMs: now };

  it('accepts a request signed over the decoded URI, the raw body and the timestamp', () => {
    expect(signableUri(url)).toBe(decodedUrl);
    expect(verifyV3(base)).toBe('ok');
  });
  it('rejects a tampered body', () => {
    expect(verifyV3({ ...base, rawBody: body.replace('901', '902') })).toBe('invalid');
  });
  it('rejects another secret', () => {
    expect(verifyV3({ ...base, signature: hubspotSigns('POST', decodedUrl, body, ts, 'other') })).toBe('invalid');
  });
  it('rejects another URL or method', () => {
    expect(verifyV3({ ...base, url: url.replace('status', 'refresh') })).toBe('invalid');
    expect(verifyV3({ ...base, method: 'PUT' })).toBe('invalid');
  });
  it('rejects timestamps outside five minutes, both ways', () => {
    const old = String(now - 301_000);
    expect(verifyV3({ ...base, timestamp: old, signature: hubspotSigns('POST', decodedUrl, body, old) })).toBe('stale');
    const future = String(now + 301_000);
    expect(verifyV3({ ...base, timestamp: future, signature: hubspotSigns('POST', decodedUrl, body, future) })).toBe('stale');
  });
  it('answers missing without headers and invalid for junk', () => {
    expect(verifyV3({ ...base, signature: undefined })).toBe('missing');
    expect(verifyV3({ ...base, timestamp: undefined })).toBe('missing');
    expect(verifyV3({ ...base, timestamp: 'yesterday' })).toBe('invalid');
    expect(verifyV3({ ...base, signature: 'short' })).toBe('invalid');
  });
});
