// Does a subject line mean the policy's privacy subject ("Privacy question"), the way
// people really write it? Any case, extra spaces and punctuation around the words, and
// reply/forward prefixes in several languages, repeated (Re: Fwd: AW: WG: TR: SV: VS:
// and numbered forms like "Re[2]:"). mailparser has already decoded RFC 2047 words.
// The phrase must be the whole subject, or come first and be followed by a separator
// ("Privacy question - delete my data"); "privacy questionnaire" or a sentence that
// merely mentions it is not a request.

const PREFIX = /^[\s\p{P}]*(?:re|fwd?|fw|aw|wg|tr|sv|vs|antw|rif|rv|r)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]/iu;

function words(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function stripReplyPrefixes(subject: string): string {
  let rest = subject.normalize('NFKC');
  for (let i = 0; i < 20; i++) {
    const m = PREFIX.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
  }
  return rest;
}

export function meansPrivacySubject(subject: string, policySubject: string): boolean {
  const target = words(policySubject);
  if (!target) return false;
  const rest = stripReplyPrefixes(subject).replace(/^[\s\p{P}\p{S}]+/u, '');
  const all = words(rest);
  if (all === target) return true;
  // The phrase first, then a separator and more words.
  const lead = rest.normalize('NFKC');
  const m = /^([\p{L}\p{N}\s]+?)\s*[-–—:|([/]/u.exec(lead);
  return m !== null && words(m[1]) === target;
}
