// The core module only (the package's default entry registers every language, ~30 MB);
// English names are registered explicitly.
import countries from 'i18n-iso-countries/index.js';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
countries.registerLocale(require('i18n-iso-countries/langs/en.json'));

const names = countries.getNames('en', { select: 'official' });

/** ISO 3166-1 alpha-2 codes with English names, sorted by name for the select list. */
export const countryOptions: Array<{ code: string; name: string }> = Object.entries(names)
  .map(([code, name]) => ({ code, name }))
  // Sorted by the name without accents (Åland after Afghanistan), without ICU collation (~2 MB of RSS).
  .map((c) => ({ ...c, key: c.name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase() }))
  .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  .map(({ code, name }) => ({ code, name }));

const codes = new Set(countryOptions.map((c) => c.code));
export const isCountryCode = (code: string): boolean => codes.has(code);
