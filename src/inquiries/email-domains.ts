// Disposable and free-mail domain lists come from maintained packages; we only index
// them for fast lookup (the lists hold thousands of domains).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

function loadDisposable(): { exact: Set<string>; wildcard: Set<string> } {
  const exact = new Set<string>(require('disposable-email-domains') as string[]);
  const wildcard = new Set<string>(require('disposable-email-domains/wildcard.json') as string[]);
  const freemailDir = join(dirname(require.resolve('freemail/package.json')), 'data');
  for (const d of readFileSync(join(freemailDir, 'disposable.txt'), 'utf8').split('\n')) if (d.trim()) exact.add(d.trim().toLowerCase());
  return { exact, wildcard };
}

function loadFree(): Set<string> {
  const freemailDir = join(dirname(require.resolve('freemail/package.json')), 'data');
  return new Set(readFileSync(join(freemailDir, 'free.txt'), 'utf8').split('\n').map((d) => d.trim().toLowerCase()).filter(Boolean));
}

const disposable = loadDisposable();
const free = loadFree();

/** The domain and each parent domain: mail.example.co.uk -> example.co.uk -> co.uk. */
function domainAndParents(domain: string): string[] {
  const parts = domain.toLowerCase().split('.');
  const out: string[] = [];
  for (let i = 0; i < parts.length - 1; i++) out.push(parts.slice(i).join('.'));
  return out;
}

export function isDisposableDomain(domain: string): boolean {
  const candidates = domainAndParents(domain);
  if (disposable.exact.has(domain.toLowerCase())) return true;
  return candidates.some((d) => disposable.wildcard.has(d));
}

export function isFreeMailDomain(domain: string): boolean {
  return free.has(domain.toLowerCase());
}
