// proxy-from-env 2.x ships no type declarations.
declare module 'proxy-from-env' {
  /** The proxy URL for `url` from HTTP_PROXY/HTTPS_PROXY/ALL_PROXY (either case), or '' when none applies or NO_PROXY matches. */
  export function getProxyForUrl(url: string | URL): string;
}
