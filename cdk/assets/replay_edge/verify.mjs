// Replay tokens at the edge: the rule of livecommerce.media.playback.verify_replay_token, in Node.js
// (docs/replays.md, "Private replays"). No dependencies: node:crypto verifies ES384 (P-384, SHA-384,
// the JWS r||s signature form), so the package stays far below Lambda@Edge's 1 MB viewer-trigger limit.
import { createPublicKey, verify } from 'node:crypto';

export const CLOCK_SKEW_SECONDS = 5;
export const MAX_TTL_SECONDS = 48 * 3600;      // = media.playback.REPLAY_MAX_TTL_SECONDS
export const MAX_TOKEN_LENGTH = 4096;
const ROOT = 'ivs/v1/';
const KEY = /^ivs\/v1\/[A-Za-z0-9/_.-]+\.(m3u8|ts|jpg)$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

function b64json(part) {
  if (!B64URL.test(part)) throw new Error('malformed');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

export function keyUnder(key, prefix) {
  const parts = key.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..') || key.includes('%') || key.includes('\\')) return false;
  return key.startsWith(prefix.replace(/\/+$/, '') + '/');
}

// '/t/<token>/<key>' -> [token, key] or null
export function splitPath(uri) {
  if (typeof uri !== 'string' || !uri.startsWith('/t/')) return null;
  const rest = uri.slice(3);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return null;
  return [rest.slice(0, slash), rest.slice(slash + 1)];
}

// The reason a token does not open `key`, or null when it does.
export function refusal(token, key, publicKeys, nowSeconds) {
  if (!KEY.test(key)) return 'not_served';
  if (typeof token !== 'string' || !token || token.length > MAX_TOKEN_LENGTH) return 'malformed';
  const parts = token.split('.');
  if (parts.length !== 3) return 'malformed';
  let header, claims;
  try {
    header = b64json(parts[0]);
    claims = b64json(parts[1]);
  } catch (e) {
    return 'malformed';
  }
  if (!header || header.alg !== 'ES384') return 'wrong_algorithm';
  if (!B64URL.test(parts[2])) return 'malformed';
  const signature = Buffer.from(parts[2], 'base64url');
  const signed = Buffer.from(parts[0] + '.' + parts[1]);
  const good = signature.length === 96 && publicKeys.some((pem) =>
    verify('sha384', signed, { key: createPublicKey(pem), dsaEncoding: 'ieee-p1363' }, signature));
  if (!good) return 'bad_signature';
  const exp = claims && claims.exp;
  const prefix = claims && claims['lc:replay-prefix'];
  if (exp === undefined || prefix === undefined) return 'missing_claim';
  if (!Number.isInteger(exp) || typeof prefix !== 'string') return 'malformed';
  if (exp <= nowSeconds - CLOCK_SKEW_SECONDS) return 'expired';
  if (exp > nowSeconds + MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS) return 'lifetime_too_long';
  if (!prefix.startsWith(ROOT) || !keyUnder(key, prefix)) return 'wrong_prefix';
  return null;
}

const CORS = { 'access-control-allow-origin': [{ key: 'Access-Control-Allow-Origin', value: '*' }] };

export function makeHandler(publicKeys, clock = () => Date.now() / 1000) {
  return async (event) => {
    const request = event.Records[0].cf.request;
    if (request.method === 'OPTIONS') {
      return { status: '204', statusDescription: 'No Content', headers: { ...CORS,
        'access-control-allow-methods': [{ key: 'Access-Control-Allow-Methods', value: 'GET, HEAD, OPTIONS' }],
        'access-control-allow-headers': [{ key: 'Access-Control-Allow-Headers', value: '*' }] } };
    }
    const split = splitPath(request.uri);
    const reason = split === null ? 'no_token' : refusal(split[0], split[1], publicKeys, clock());
    if (reason !== null) {
      console.log(JSON.stringify({ refused: reason }));
      return { status: '403', statusDescription: 'Forbidden', headers: { ...CORS,
        'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
        'content-type': [{ key: 'Content-Type', value: 'text/plain' }] }, body: 'forbidden: replay token ' + reason };
    }
    request.uri = '/' + split[1];          // the origin (and the cache key) see the bare object key
    return request;
  };
}
