// Reads and validates the policy file and everything it points to (notice texts, the
// regional deadline table). Errors name the file, the path of the bad field and what is
// expected, so `lumetrax policy check` and a refused start say exactly what to fix.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { policySchema, regionalRuleSchema, type NoticeVersion, type Policy, type RegionalRule } from './schema.ts';

export interface LoadedPolicy {
  file: string;
  policy: Policy;
  notices: Map<string, string>;
  regionalRules: RegionalRule[];
  current: NoticeVersion;
}

const ownRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

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

const expectedNames: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys to values',
  null: 'nothing',
};

/** What the file actually holds there, in the words an operator editing YAML would use. */
function found(input: unknown): string {
  if (input === null) return 'an empty value';
  if (typeof input === 'string') {
    const shown = input.length > 60 ? `${input.slice(0, 57)}...` : input;
    return input === '' ? 'empty text' : `the text ${JSON.stringify(shown)}`;
  }
  if (typeof input === 'number') return Number.isInteger(input) ? `the whole number ${input}` : `the number ${input}`;
  if (typeof input === 'boolean') return `the value ${input}`;
  if (Array.isArray(input)) return `a list of ${input.length} item${input.length === 1 ? '' : 's'}`;
  if (typeof input === 'object') return 'a mapping of keys to values';
  return String(input);
}

function isScalar(input: unknown): boolean {
  return input === null || ['string', 'number', 'boolean'].includes(typeof input);
}

// Issues carry their input only because safeParse is asked to report it (zod 4 leaves
// it out by default, which made a wrong type read as a missing key).
function describe(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const where = formatPath(issue.path) || '(top level)';
    const input = (issue as { input?: unknown }).input;
    // A message the schema wrote itself (e.g. promise P9 on cookies) says it best.
    const ownMessage = !/^(Invalid|Too (small|big))\b/.test(issue.message);
    if (ownMessage && issue.code !== 'unrecognized_keys' && !(issue.code === 'invalid_type' && input === undefined)) {
      return isScalar(input) && input !== undefined ? `${where}: ${issue.message}, found ${found(input)}` : `${where}: ${issue.message}`;
    }
    switch (issue.code) {
      case 'unrecognized_keys':
        return `${where}: unknown key(s) ${issue.keys.join(', ')}; remove them or check the spelling`;
      case 'invalid_type': {
        const expected = expectedNames[issue.expected] ?? issue.expected;
        if (input === undefined) return `${where}: is required (${ownMessage ? issue.message : `expected ${expected}`})`;
        return `${where}: expected ${expected}, found ${found(input)}`;
      }
      case 'invalid_value':
        return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${found(input)}`;
      case 'too_small':
        if (issue.origin === 'string' && Number(issue.minimum) === 1) return `${where}: must not be empty`;
        if (issue.origin === 'number') return `${where}: expected a number of at least ${issue.minimum}, found ${found(input)}`;
        if (issue.origin === 'array') return `${where}: expected at least ${issue.minimum} item(s), found ${found(input)}`;
        return `${where}: ${issue.message}`;
      case 'too_big':
        if (issue.origin === 'number') return `${where}: expected a number of at most ${issue.maximum}, found ${found(input)}`;
        return `${where}: ${issue.message}`;
      default:
        // Format rules and refinements already say what is expected; add what was there.
        return isScalar(input) && input !== undefined ? `${where}: ${issue.message}, found ${found(input)}` : `${where}: ${issue.message}`;
    }
  });
}

/** Table rows are named by index and by what they are about, e.g. `row [12] (US-CA access) deadline.unit: ...`. */
function describeRows(issues: z.core.$ZodIssue[], raw: unknown): string[] {
  return issues.map((issue) => {
    const [index, ...rest] = issue.path;
    if (typeof index !== 'number' || !Array.isArray(raw)) return describe([issue])[0];
    const row = raw[index] as { jurisdiction?: unknown; requestType?: unknown } | undefined;
    const about = [row?.jurisdiction, row?.requestType].filter((v) => typeof v === 'string' && /^[A-Za-z0-9 _-]{1,20}$/.test(v)).join(' ');
    const field = describe([{ ...issue, path: rest }])[0].replace(/^\(top level\)/, '(the row)');
    return `row [${index}]${about ? ` (${about})` : ''} ${field}`;
  });
}

/**
 * A syntax error usually makes the parser report a string of follow-on errors (13 for one
 * unclosed bracket), so only the first is shown, with where it was detected.
 */
function yamlSyntaxProblem(errors: YAMLError[], lines: LineCounter): string {
  const [first] = errors;
  const pos = first.pos ? lines.linePos(first.pos[0]) : undefined;
  const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
  const more = errors.length > 1 ? ' (later syntax errors are not shown: they usually follow from this one)' : '';
  return `YAML syntax error${at}: ${first.message}${more}`;
}

/** The folder whose package.json sits above the policy file, else this project's root. */
function projectRootFor(policyFile: string): string {
  for (let dir = dirname(policyFile); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return ownRoot;
  }
}

function proofProblems(policy: Policy, root: string): string[] {
  const problems: string[] = [];
  policy.security_commitments.forEach((c, i) => {
    const where = `security_commitments[${i}].proven_by (commitment "${c.title}")`;
    const path = resolve(root, c.proven_by);
    const rel = relative(root, path);
    if (isAbsolute(c.proven_by) || rel.startsWith('..')) problems.push(`${where}: ${c.proven_by} is outside the project; expected a test file path relative to ${root}`);
    else if (!existsSync(path) || !statSync(path).isFile()) problems.push(`${where}: test file ${c.proven_by} not found (looked in ${root})`);
  });
  return problems;
}

export interface LoadOptions {
  /** Check that each security commitment's proven_by names a test file that exists (default true). */
  checkProofs?: boolean;
}

export function loadPolicy(file: string, options: LoadOptions = {}): LoadedPolicy {
  if (!existsSync(file)) throw new PolicyError(file, ['file not found; set POLICY_FILE or pass the path of a policy YAML file']);
  // Positions come from a LineCounter: prettyErrors would also fold a source excerpt into the message.
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) throw new PolicyError(file, [yamlSyntaxProblem(doc.errors, lineCounter)]);
  const parsed = policySchema.safeParse(doc.toJS(), { reportInput: true });
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
      const rawRules: unknown = JSON.parse(readFileSync(rulesPath, 'utf8'));
      const rules = regionalRuleSchema.safeParse(rawRules, { reportInput: true });
      if (rules.success) regionalRules = rules.data;
      else problems.push(...describeRows(rules.error.issues, rawRules).map((p) => `${policy.deadlines.regional_rules_file} ${p}`));
    } catch (error) {
      problems.push(`deadlines.regional_rules_file: ${policy.deadlines.regional_rules_file} is not valid JSON (${(error as Error).message})`);
    }
  }
  if (options.checkProofs !== false) problems.push(...proofProblems(policy, projectRootFor(file)));
  if (problems.length > 0) throw new PolicyError(file, problems);

  const current = policy.notice.versions.find((v) => v.version === policy.notice.current)!;
  return { file, policy, notices, regionalRules, current };
}

export function cookieDeclaration(loaded: LoadedPolicy, name: string) {
  return loaded.policy.cookies.find((c) => c.name === name);
}
