// The disposable and free-mail lookups: sorted domain lists from maintained packages,
// read as bytes and binary-searched (SortedDomainList). Disposable: an exact entry of
// either list, or the domain or any parent under a wildcard entry. Free mail: exact only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { isDisposableDomain, isFreeMailDomain, SortedDomainList } from '../../src/inquiries/email-domains.ts';
import { validateInquiry } from '../../src/inquiries/validate-inquiry.ts';

const validFields = { name: 'Ada Lovelace', company: 'Analytical Engines', role: 'Head of Operations', country: 'GB', context: '' };

describe('isDisposableDomain', () => {
  test('exact entries of the disposable-email-domains list and of freemail\'s disposable list', () => {
    assert.equal(isDisposableDomain('guerrillamail.com'), true);
    assert.equal(isDisposableDomain('10minutemail.com'), true);
    assert.equal(isDisposableDomain('die.life'), true, 'only in freemail\'s disposable.txt');
  });

  test('a wildcard entry covers itself and every subdomain, however deep', () => {
    for (const d of ['33mail.com', 'alias.33mail.com', 'a.b.c.33mail.com', 'mailinator.com', 'inbox.mailinator.com']) {
      assert.equal(isDisposableDomain(d), true, d);
    }
  });

  test('a subdomain of an exact-only entry is not matched (the exact list means exactly that domain)', () => {
    assert.equal(isDisposableDomain('guerrillamail.com'), true);
    assert.equal(isDisposableDomain('mail.guerrillamail.com'), false);
  });

  test('case does not matter', () => {
    for (const d of ['GUERRILLAMAIL.COM', 'GuerrillaMail.com', 'Alias.33MAIL.com', 'DIE.LIFE']) assert.equal(isDisposableDomain(d), true, d);
  });

  test('work domains, a bare top-level domain, the empty string and lone dots are not disposable', () => {
    for (const d of ['lumetrax.example', 'analytical-engines.example.com', 'gmail.com', 'com', 'mail', '', '.', '..', 'guerrillamail', 'guerrillamail.co', 'xguerrillamail.com', 'guerrillamail.com.evil.example']) {
      assert.equal(isDisposableDomain(d), false, JSON.stringify(d));
    }
  });

  test('a neighbour in sort order of an entry is not matched (binary search boundaries)', () => {
    assert.equal(isDisposableDomain('guerrillamail.coma'), false);
    assert.equal(isDisposableDomain('0'), false);
    assert.equal(isDisposableDomain('zzzzzzzzzzzz.zzzz'), false);
    assert.equal(isDisposableDomain('\u{10FFFF}'), false);
  });

  test(
    'a trailing dot (the same domain in DNS) does not hide a disposable or free-mail domain',
    {},
    () => {
      assert.equal(isDisposableDomain('guerrillamail.com.'), true);
      assert.equal(isDisposableDomain('alias.33mail.com.'), true);
      assert.equal(isFreeMailDomain('gmail.com.'), true);
    },
  );

  test('the forms refuse an address whose domain ends in a dot, so it never reaches the lookups', () => {
    const { policy } = loadPolicy(join(projectRoot, 'policy', 'lumetrax.yaml'));
    for (const email of ['a@guerrillamail.com.', 'a@gmail.com.']) {
      const result = validateInquiry(policy, { ...validFields, email });
      assert.equal(result.ok, false, email);
      assert.ok(!result.ok && result.errors.email, email);
    }
    const refused = validateInquiry(policy, { ...validFields, email: 'a@GuerrillaMail.com' });
    assert.ok(!refused.ok && /disposable/.test(refused.errors.email ?? ''), 'an upper-case disposable address is refused as disposable');
  });
});

describe('isFreeMailDomain', () => {
  test('free-mail providers, in any case', () => {
    for (const d of ['gmail.com', 'GMAIL.COM', 'outlook.com', 'Hotmail.com', 'yahoo.co.uk', 'protonmail.com']) assert.equal(isFreeMailDomain(d), true, d);
  });

  test('exact only: a subdomain, a parent or a look-alike of a provider is not free mail', () => {
    for (const d of ['mail.gmail.com', 'co.uk', 'gmail.co', 'gmail.com.evil.example', 'lumetrax.example', '', '.', 'com']) {
      assert.equal(isFreeMailDomain(d), false, JSON.stringify(d));
    }
  });
});

describe('SortedDomainList (the scanner over the list files)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lumetrax-domains-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, content: string): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  }

  test('a JSON array: every entry found, first and last included, nothing else', () => {
    const list = SortedDomainList.fromFile(file('a.json', '[\n  "aa.example",\n  "bb.example",\n  "cc.example"\n]\n'));
    assert.equal(list.size, 3);
    for (const d of ['aa.example', 'bb.example', 'cc.example', 'BB.Example']) assert.equal(list.has(d), true, d);
    for (const d of ['a.example', 'ab.example', 'bb.exampl', 'bb.examplex', 'dd.example', '', '"bb.example"', '[']) assert.equal(list.has(d), false, d);
  });

  test('a text file: one entry a line; CRLF, trailing spaces, blank lines and a missing final newline are fine', () => {
    const list = SortedDomainList.fromFile(file('b.txt', 'aa.example\r\nbb.example  \n\n\r\ncc.example\ndd.example'));
    assert.equal(list.size, 4);
    for (const d of ['aa.example', 'bb.example', 'cc.example', 'dd.example']) assert.equal(list.has(d), true, d);
    assert.equal(list.has('bb.example  '), false);
    assert.equal(list.has(''), false);
  });

  test('empty files hold nothing', () => {
    for (const [name, content] of [['e.txt', ''], ['e.json', '[]'], ['n.txt', '\n\n\r\n']]) {
      const list = SortedDomainList.fromFile(file(name, content));
      assert.equal(list.size, 0, name);
      assert.equal(list.has('aa.example'), false);
      assert.equal(list.has(''), false);
    }
  });

  test('a union of sorted lists holds every entry once, in order, and finds each', () => {
    const a = SortedDomainList.fromFile(file('a.json', '["a.example","c.example","d.example"]'));
    const b = SortedDomainList.fromFile(file('b.txt', 'b.example\nc.example\nd.example\ne.example\n'));
    const both = SortedDomainList.union([a, b]);
    assert.equal(both.size, 5);
    for (const d of ['a.example', 'b.example', 'c.example', 'd.example', 'e.example']) assert.ok(both.has(d), d);
    assert.ok(!both.has('f.example') && !both.has('c.exampl'));
    assert.equal(SortedDomainList.union([a]).size, 3);
  });

  test('an unsorted list is refused at load, since binary search would silently miss entries', () => {
    assert.throws(() => SortedDomainList.fromFile(file('u.txt', 'bb.example\naa.example\n')), /not sorted/);
    assert.throws(() => SortedDomainList.fromFile(file('u.json', '["bb.example","aa.example"]')), /not sorted/);
    assert.equal(SortedDomainList.fromFile(file('d.txt', 'aa.example\naa.example\nbb.example\n')).has('aa.example'), true, 'duplicates are sorted too');
  });

  test('a long list: every entry is found and no gap between entries is', () => {
    const entries = Array.from({ length: 5000 }, (_, i) => `d${String(i).padStart(5, '0')}.example`);
    const list = SortedDomainList.fromFile(file('long.txt', entries.join('\n') + '\n'));
    assert.equal(list.size, entries.length);
    assert.ok(entries.every((d) => list.has(d)));
    assert.ok(entries.every((d) => !list.has(`${d}x`) && !list.has(d.slice(0, -1))));
  });

  test(
    'entries shorter than two characters are all read, or the file is refused',
    {},
    () => {
      const path = file('short.txt', 'a\nb\nc\nd\ne\nf\ng\nh\n');
      let list: SortedDomainList | undefined;
      try {
        list = SortedDomainList.fromFile(path);
      } catch {
        return; // refusing the file is an acceptable answer
      }
      assert.equal(list.size, 8);
      assert.equal(list.has('h'), true);
    },
  );
});
