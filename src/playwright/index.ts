// directline-vcr/playwright: route a page's Direct Line traffic to a cassette (routeDirectLine), and the
// @playwright/test fixture built on it (test, expect).
export {
  routeDirectLine,
  mismatchReport,
  PLAYWRIGHT_VCR_MODES,
  type RouteDirectLineOptions,
  type DirectLineRoute,
  type PlaywrightVcrMode,
} from './route.js';
export { test, expect, modeFromEnv, defaultCassettePath, type DirectLineFixtureOptions } from './fixture.js';
export { DIRECT_LINE_HOSTS, isDirectLineHost } from '../forward/directline-hosts.js';
