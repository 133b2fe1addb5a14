// Reads and validates the policy file and everything it points to (notice texts, the
// regional deadline table). Errors name the file, the path of the bad field and what is
// expected, so `lumetrax policy check` and a refused start say exactly what to fix.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { policySchema, regionalRuleSchema, type NoticeVersion, type Policy, type RegionalRule } from './schema.ts';

export interface LoadedPolicy {
  file: string;
  policy: Policy;
  notices: Map<string, string>;
  regionalRules: RegionalRule[];
  current: NoticeVersion;
}

export class PolicyError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`${file}: policy is invalid\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

function describe(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const where = formatPath(issue.path) || '(top level)';
    if (issue.code === 'unrecognized_keys') return `${where}: unknown key(s) ${issue.keys.join(', ')}; remove them or check the spelling`;
    if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: is required (expected ${issue.expected})`;
    return `${where}: ${issue.message}`;
  });
}

export function loadPolicy(file: string): LoadedPolicy {
  if (!existsSync(file)) throw new PolicyError(file, ['file not found; set POLICY_FILE or pass the path of a policy YAML file']);
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
  if (doc.errors.length > 0) throw new PolicyError(file, doc.errors.map((e) => `YAML syntax: ${e.message}`));
  const parsed = policySchema.safeParse(doc.toJS());
  if (!parsed.success) throw new PolicyError(file, describe(parsed.error.issues));
  const policy = parsed.data;
  const dir = dirname(file);
  const problems: string[] = [];

  const notices = new Map<string, string>();
  policy.notice.versions.forEach((v, i) => {
    const path = resolve(dir, v.file);
    if (!existsSync(path)) problems.push(`notice.versions[${i}].file: ${v.file} not found (looked in ${dir})`);
    else notices.set(v.version, readFileSync(path, 'utf8'));
  });

  let regionalRules: RegionalRule[] = [];
  const rulesPath = resolve(dir, policy.deadlines.regional_rules_file);
  if (!existsSync(rulesPath)) {
    problems.push(`deadlines.regional_rules_file: ${policy.deadlines.regional_rules_file} not found (looked in ${dir})`);
  } else {
    try {
      const rules = regionalRuleSchema.safeParse(JSON.parse(readFileSync(rulesPath, 'utf8')));
      if (rules.success) regionalRules = rules.data;
      else problems.push(...describe(rules.error.issues).map((p) => `${policy.deadlines.regional_rules_file} ${p}`));
    } catch (error) {
      problems.push(`deadlines.regional_rules_file: ${policy.deadlines.regional_rules_file} is not valid JSON (${(error as Error).message})`);
    }
  }
  if (problems.length > 0) throw new PolicyError(file, problems);

  const current = policy.notice.versions.find((v) => v.version === policy.notice.current)!;
  return { file, policy, notices, regionalRules, current };
}

export function cookieDeclaration(loaded: LoadedPolicy, name: string) {
  return loaded.policy.cookies.find((c) => c.name === name);
}
