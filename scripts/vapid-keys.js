// Prints a new VAPID key pair for Web Push (RFC 8292) as the desk reads it: VAPID_PUBLIC_KEY (the uncompressed P-256 point) and VAPID_PRIVATE_KEY (the scalar), base64url. `make dev` adds one to .dev.vars; for production: `node scripts/vapid-keys.js` then `wrangler secret put` each.
import { generateKeyPairSync } from 'node:crypto';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const jwk = privateKey.export({ format: 'jwk' });
const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
console.log(`VAPID_PUBLIC_KEY=${point.toString('base64url')}`);
console.log(`VAPID_PRIVATE_KEY=${jwk.d}`);
