// isCrossSite: the only guard against cross-site form posts (no CSRF cookie). Sec-Fetch-Site
// decides when a browser sends it; otherwise Origin is compared with the public URL's host
// and the request's Host; a request with neither header is not a browser's cross-site post.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCrossSite } from '../../src/http/origin.ts';

const PUBLIC = 'https://www.lumetrax.example';
const HOST = 'www.lumetrax.example';

function check(headers: Record<string, string | undefined>, host: string | undefined = HOST, publicUrl = PUBLIC): boolean {
  return isCrossSite(headers, publicUrl, host);
}

describe('isCrossSite', () => {
  test('Sec-Fetch-Site: same-origin and none pass; same-site, cross-site and anything unknown are refused', () => {
    assert.equal(check({ 'sec-fetch-site': 'same-origin' }), false);
    assert.equal(check({ 'sec-fetch-site': 'none' }), false, 'typed into the address bar or a bookmark');
    assert.equal(check({ 'sec-fetch-site': 'same-site' }), true, 'a sibling subdomain is another origin');
    assert.equal(check({ 'sec-fetch-site': 'cross-site' }), true);
    assert.equal(check({ 'sec-fetch-site': 'Same-Origin' }), true, 'values are lower-case tokens; anything else is not trusted');
    assert.equal(check({ 'sec-fetch-site': 'same-origin, cross-site' }), true, 'a repeated header (joined by Node) is not same-origin');
  });

  test('Sec-Fetch-Site wins over Origin either way', () => {
    assert.equal(check({ 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' }), false);
    assert.equal(check({ 'sec-fetch-site': 'cross-site', origin: PUBLIC }), true);
    assert.equal(check({ 'sec-fetch-site': 'same-site', origin: PUBLIC }), true);
  });

  test('an empty Sec-Fetch-Site is ignored and Origin decides', () => {
    assert.equal(check({ 'sec-fetch-site': '', origin: 'https://evil.example' }), true);
    assert.equal(check({ 'sec-fetch-site': '', origin: PUBLIC }), false);
  });

  test('without Sec-Fetch-Site: Origin "null" is refused (sandboxed frames, data: URLs, some redirects)', () => {
    assert.equal(check({ origin: 'null' }), true);
  });

  test('without Sec-Fetch-Site: the public URL\'s origin passes; another host or port is refused', () => {
    assert.equal(check({ origin: PUBLIC }), false);
    assert.equal(check({ origin: 'https://WWW.LumeTrax.example:443' }), false, 'case and the default port are the same origin');
    assert.equal(check({ origin: 'https://evil.example' }), true);
    assert.equal(check({ origin: 'https://lumetrax.example' }), true, 'the parent domain is another origin');
    assert.equal(check({ origin: 'https://www.lumetrax.example.evil.example' }), true, 'a suffix trick');
    assert.equal(check({ origin: 'https://www.lumetrax.example:8443' }), true, 'another port');
    assert.equal(check({ origin: 'http://127.0.0.1:3000' }, '127.0.0.1:3001', 'http://127.0.0.1:3001'), true);
  });

  test('without Sec-Fetch-Site: a malformed Origin is refused', () => {
    for (const origin of ['not a url', 'https://', '//www.lumetrax.example', 'www.lumetrax.example', 'https://[::1', '\u0000']) {
      assert.equal(check({ origin }), true, JSON.stringify(origin));
    }
  });

  test('without Sec-Fetch-Site: an Origin matching the request\'s Host passes (reached under another name than PUBLIC_URL)', () => {
    assert.equal(check({ origin: 'http://localhost:3000' }, 'localhost:3000', 'http://127.0.0.1:3000'), false);
    assert.equal(check({ origin: 'http://localhost:3000' }, undefined, 'http://127.0.0.1:3000'), true, 'no Host: only the public URL counts');
    assert.equal(check({ origin: 'http://localhost:3000' }, 'localhost:3001', 'http://127.0.0.1:3000'), true, 'the Host\'s port counts too');
    assert.equal(check({ origin: PUBLIC }, 'internal.lumetrax.example'), false, 'the public URL still counts when Host differs');
  });

  test('neither header (curl, server-side clients): not a browser\'s cross-site post, so it passes', () => {
    assert.equal(check({}), false);
    assert.equal(check({}, undefined), false);
    assert.equal(check({ origin: '' }), false);
    assert.equal(check({ 'sec-fetch-site': '', origin: '' }), false);
  });

  test(
    'without Sec-Fetch-Site: an Origin with the right host but another scheme is another origin',
    {},
    () => {
      assert.equal(check({ origin: 'http://www.lumetrax.example' }, undefined), true);
    },
  );
});
