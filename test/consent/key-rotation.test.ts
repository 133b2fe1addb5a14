// Rotating SECRET_KEY on a running installation: unsubscribe links already mailed keep
// working through SECRET_KEY_PREVIOUS, people are re-keyed at start, and nobody who
// withdrew can be mailed again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../support/db.ts';
import { consentRecordsByEmail, inquiriesByEmail } from '../support/people.ts';
import { postForm, startTestServer, submitForm, TEST_SECRET, validFields } from '../support/server.ts';
import { keyId } from '../../src/http/signing.ts';
import { exportMarketingList } from '../../src/consent/export-marketing.ts';

const NEW_SECRET = 'f00d'.repeat(16);

test('a key rotation keeps mailed links working, re-keys people, and keeps the withdrawn suppressed', async () => {
  const database = await createTestDatabase();
  try {
    let server = await startTestServer({ database });
    const linkOf = async (email: string) => {
      const [inquiry] = await inquiriesByEmail(server.running.deps.storage.db, email);
      const mail = await server.running.deps.storage.db.selectFrom('outbox').select('headers').where('inquiry_id', '=', inquiry.id).where('kind', '=', 'inquiry-confirmation').executeTakeFirstOrThrow();
      return new URL((JSON.parse(mail.headers) as Record<string, string>)['List-Unsubscribe'].slice(1, -1)).pathname;
    };
    await submitForm(server.url, 'demo', { ...validFields, email: 'stays@rotation.example.com', marketing_opt_in: 'yes' });
    await submitForm(server.url, 'demo', { ...validFields, email: 'leaves@rotation.example.com', marketing_opt_in: 'yes' });
    await submitForm(server.url, 'demo', { ...validFields, email: 'later@rotation.example.com', marketing_opt_in: 'yes' });
    const leaves = await linkOf('leaves@rotation.example.com');
    const later = await linkOf('later@rotation.example.com');
    assert.equal((await postForm(server.url, leaves, {})).status, 200);
    await server.close();

    server = await startTestServer({ database, env: { SECRET_KEY: NEW_SECRET, SECRET_KEY_PREVIOUS: TEST_SECRET } });
    const db = server.running.deps.storage.db;
    const people = await db.selectFrom('person').select('subject_key').execute();
    assert.ok(people.every((p) => p.subject_key.startsWith(`${keyId(Buffer.from(NEW_SECRET, 'hex'))}:`)), 'every person re-keyed at start');

    // A link mailed before the rotation still unsubscribes.
    assert.equal((await postForm(server.url, later, {})).status, 200);
    assert.equal((await consentRecordsByEmail(db, 'later@rotation.example.com')).at(-1)!.action, 'withdrawn');

    // The person who withdrew before the rotation stays off the list, and a fresh tick
    // asks for confirmation instead of subscribing them.
    const { csv } = await exportMarketingList(server.running.deps, 'test');
    assert.ok(csv.includes('stays@rotation.example.com'));
    assert.ok(!csv.includes('leaves@rotation.example.com') && !csv.includes('later@rotation.example.com'));
    await submitForm(server.url, 'contact', { ...validFields, email: 'leaves@rotation.example.com', marketing_opt_in: 'yes' });
    assert.equal((await consentRecordsByEmail(db, 'leaves@rotation.example.com')).at(-1)!.action, 'withdrawn');
    assert.equal((await db.selectFrom('outbox').select('id').where('kind', '=', 'consent-confirmation').execute()).length, 1);
    await server.close();

    // Once the previous key is removed, its links stop working (the stated grace period ends).
    server = await startTestServer({ database, env: { SECRET_KEY: NEW_SECRET } });
    assert.equal((await postForm(server.url, leaves, {})).status, 404);
    await server.close();
  } finally {
    await database.drop();
  }
});
