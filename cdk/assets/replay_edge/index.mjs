// The replay distribution's viewer-request Lambda@Edge (cdk/constructs/replay_cdn.py): checks the
// replay token in /t/<token>/<key> and strips it before the cache and the origin. Lambda@Edge has no
// environment variables: the playback public key(s) are bundled at synth into keys.mjs.
import { makeHandler } from './verify.mjs';
import { PUBLIC_KEYS } from './keys.mjs';

export const handler = makeHandler(PUBLIC_KEYS);
