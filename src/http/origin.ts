// Cross-site form posts are refused without any CSRF cookie: browsers say where a post
// comes from. Sec-Fetch-Site decides when present; older browsers are judged by Origin
// (our same-origin referrer policy keeps it real on our own posts; "null" is refused).
// Requests carrying neither (curl, server clients) are not browser-driven cross-site
// posts, so they pass.
export function isCrossSite(headers: Record<string, string | string[] | undefined>, publicUrl: string, host: string | undefined): boolean {
  const fetchSite = headers['sec-fetch-site'];
  if (typeof fetchSite === 'string' && fetchSite !== '') return fetchSite !== 'same-origin' && fetchSite !== 'none';
  const origin = headers['origin'];
  if (typeof origin !== 'string' || origin === '') return false;
  if (origin === 'null') return true;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return true;
  }
  const allowed = new Set<string>([new URL(publicUrl).host]);
  if (host) allowed.add(host);
  return !allowed.has(originHost);
}
