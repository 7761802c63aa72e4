// Issue 16's acceptance of the web portal in headless Chromium (node --test; run by
// tests/web/run.sh, registered in ctest as web_portal). One fixture for the whole run
// (fixture.mjs: two `callvault serve`, sipp calls, users, synthetic calls); the suites follow in
// this order — the lock-out's wait for Retry-After overlaps the suites between its two halves,
// and the Opus suite comes last because its call records for OPUS_SECONDS in the background.
import { after, before } from 'node:test';
import { accessSuite, csrfSuite, tenantsSuite } from './suite-access.mjs';
import { authSuite, lockExpirySuite } from './suite-auth.mjs';
import { callsSuite } from './suite-calls.mjs';
import { guardsSuite, liveSuite, xssSuite } from './suite-live.mjs';
import { mediaSuite, opusSuite } from './suite-media.mjs';
import { screensSuite } from './suite-screens.mjs';
import { launchBrowser } from './browser.mjs';
import { buildFixture, closeFixture } from './fixture.mjs';
import { watchdog } from './harness.mjs';

const fx = {};
watchdog(540000);  // ctest's TIMEOUT is 600 s

before(async () => {
  // The browser first: a machine without Chromium fails at once, with the install hint.
  const browser = await launchBrowser();
  Object.assign(fx, await buildFixture({ artifacts: process.env.CALLVAULT_WEB_ARTIFACTS }));
  fx.browser = browser;
}, { timeout: 240000 });

after(async () => {
  await fx.browser?.close().catch(() => {});
  await closeFixture(fx);
});

authSuite(fx);
callsSuite(fx);
mediaSuite(fx);
accessSuite(fx);
tenantsSuite(fx);
csrfSuite(fx);
xssSuite(fx);
liveSuite(fx);
screensSuite(fx);
lockExpirySuite(fx);
opusSuite(fx);
guardsSuite(fx);
