// The hosts a Direct Line client talks to when its domain is left at a default or set to a hosted
// service: the ones the forward proxy and the Playwright routes intercept (everything else is left alone).

/** Exact hostnames of the hosted Direct Line services (global, Web Chat channel, Azure Government, Azure China). */
export const DIRECT_LINE_HOSTS: readonly string[] = [
  'directline.botframework.com',
  'webchat.botframework.com',
  'directline.botframework.azure.us',
  'webchat.botframework.azure.us',
  'directline.botframework.azure.cn',
];

/** Regional and Copilot Studio hosts: europe., india., unitedstates., … */
export const DIRECT_LINE_HOST_SUFFIX = '.directline.botframework.com';

/**
 * Whether `hostname` (no port) is a Direct Line host, or one of `extra` (hostnames, or origins such as
 * 'https://bot.example.com', whose hostname counts).
 */
export function isDirectLineHost(hostname: string, extra: readonly string[] = []): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (DIRECT_LINE_HOSTS.includes(h) || h.endsWith(DIRECT_LINE_HOST_SUFFIX)) return true;
  return extra.some((e) => extraHostname(e) === h);
}

function extraHostname(entry: string): string {
  const e = entry.trim().toLowerCase();
  if (e.includes('://')) {
    try {
      return new URL(e).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return e;
    }
  }
  return e.replace(/:\d+$/, '');
}
