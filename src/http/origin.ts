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
  let given: string;
  try {
    given = new URL(origin).origin;
  } catch {
    return true;
  }
  // An origin is scheme, host and port: http://site is another origin than https://site.
  const ours = new URL(publicUrl);
  const allowed = new Set<string>([ours.origin]);
  if (host) allowed.add(`${ours.protocol}//${host}`);
  return !allowed.has(given);
}
