// `lumetrax rights SUBCOMMAND ...`: the privacy desk's commands. main.ts hands over
// everything after `rights`; each subcommand parses its own options here, so a new one
// (e.g. `rights list`) is one entry in `subcommands` and nothing in main.ts.
//
// Mistakes in what was typed (unknown option, bad instant, unknown jurisdiction...) are
// one line on stderr and exit 2; a broken policy file is main.ts's PolicyError (exit 1).
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import type { LoadedPolicy } from '../policy/load.ts';
import { requestTypes, type RequestType } from '../policy/deadline-table.ts';
import { ClockInputError, computeDeadlines, deadlineRulesFrom, parseCalendar, type ClockCalendar } from './clock.ts';
import type { Storage } from '../storage/db.ts';
import { formatOpenRequests, listOpenRequests } from './list-open.ts';

export interface RightsCliDeps {
  /** Loads (and validates) the policy; called only by subcommands that need it. */
  policy(): LoadedPolicy;
  /** Opens the checked database for the length of `fn` (subcommands that read requests). */
  withStorage<T>(fn: (storage: Storage) => Promise<T>): Promise<T>;
}

/** A mistake in what was typed: printed as one line, exit 2. */
class RightsUsageError extends Error {}

interface Subcommand {
  synopsis: string;
  run(argv: string[], deps: RightsCliDeps): Promise<number>;
}

// An instant must say where it was: a date and time with Z or a numeric offset. Without
// one, the receipt day (and so every deadline) would depend on this machine's zone.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

export function parseInstant(text: string): Date {
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
  if (!INSTANT.test(text)) {
    const hint = /^\d{4}-\d{2}-\d{2}(T[\d:.]+)?$/.test(text) ? ' (it has no Z or offset, so the day it fell on is unknown)' : '';
    throw new RightsUsageError(`--received ${shown} is not an ISO 8601 instant such as 2026-11-27T16:05:00Z or 2026-11-27T17:05:00+01:00${hint}`);
  }
  const parsed = DateTime.fromISO(text, { setZone: true });
  if (!parsed.isValid) throw new RightsUsageError(`--received ${shown} is not a real date and time (${parsed.invalidExplanation ?? parsed.invalidReason})`);
  return parsed.toJSDate();
}

function options(argv: string[], names: string[], command: string): Record<string, string | undefined> {
  try {
    const { values } = parseArgs({ args: argv, options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])), strict: true, allowPositionals: false });
    return values as Record<string, string | undefined>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const token = /'([^']*)'/.exec((error as Error).message)?.[1]?.replace(/ <value>$/, '');
    const what = token ? JSON.stringify(token) : 'an argument';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new RightsUsageError(`unknown option ${what} for ${command} (options: ${names.map((n) => `--${n}`).join(', ')})`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new RightsUsageError(`unexpected argument ${what} for ${command}; every value follows its option, e.g. --type access`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new RightsUsageError(`${command}: ${token ? `${token} needs a value` : 'an option needs a value'}`);
    throw new RightsUsageError(`${command}: ${(error as Error).message.split('\n')[0]}`);
  }
}

const due: Subcommand = {
  synopsis: 'due --received ISO_INSTANT --jurisdiction CC[-SUB] --type access|correction|deletion [--calendar CC[-SUB]] [--tz IANA_ZONE]',
  async run(argv, deps) {
    const o = options(argv, ['received', 'jurisdiction', 'type', 'calendar', 'tz'], 'rights due');
    const missing = ['received', 'jurisdiction', 'type'].filter((n) => !o[n]);
    if (missing.length) throw new RightsUsageError(`rights due needs ${missing.map((n) => `--${n}`).join(', ')} (usage: lumetrax rights ${due.synopsis})`);
    const receivedAt = parseInstant(o.received!);
    const type = o.type!.trim().toLowerCase();
    if (!(requestTypes as readonly string[]).includes(type)) throw new RightsUsageError(`--type ${JSON.stringify(o.type)} is not one of ${requestTypes.join(', ')}`);
    const rules = deadlineRulesFrom(deps.policy());
    // --calendar and --tz each override one part of the policy's business calendar.
    const timeZone = o.tz ?? rules.calendar.timeZone;
    const calendar: ClockCalendar = o.calendar ? parseCalendar(o.calendar, timeZone) : { ...rules.calendar, timeZone };
    const result = computeDeadlines({ receivedAt, jurisdiction: o.jurisdiction!, type: type as RequestType, calendar }, rules);
    console.log(JSON.stringify({ acknowledgeBy: result.acknowledgeBy, respondBy: result.respondBy, rule: result.rule, acknowledgeRule: result.acknowledgeRule }, null, 2));
    return 0;
  },
};

const list: Subcommand = {
  synopsis: 'list [--json]',
  async run(argv, deps) {
    let json = false;
    for (const arg of argv) {
      if (arg === '--json') json = true;
      else throw new RightsUsageError(`${arg.startsWith('-') ? 'unknown option' : 'unexpected argument'} ${JSON.stringify(arg.length > 40 ? `${arg.slice(0, 37)}...` : arg)} for rights list (usage: lumetrax rights ${list.synopsis})`);
    }
    const lines = await deps.withStorage((storage) => listOpenRequests(storage.db, new Date()));
    process.stdout.write(formatOpenRequests(lines, json));
    return 0;
  },
};

const subcommands: Record<string, Subcommand> = { due, list };

/** For main.ts's usage line, e.g. "due|list". */
export function rightsSubcommands(): string {
  return Object.keys(subcommands).join('|');
}

export async function rightsCommand(argv: string[], deps: RightsCliDeps): Promise<number> {
  const [name, ...rest] = argv;
  try {
    const sub = name !== undefined && Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
    if (!sub) {
      const list = Object.values(subcommands).map((s) => `rights ${s.synopsis.split(' ')[0]}`).join(', ');
      throw new RightsUsageError(name === undefined || name.startsWith('-') ? `rights needs a subcommand: ${list}` : `unknown command ${JSON.stringify(`rights ${name}`)} (rights has: ${list})`);
    }
    return await sub.run(rest, deps);
  } catch (error) {
    if (error instanceof RightsUsageError || error instanceof ClockInputError) {
      console.error(`lumetrax: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
