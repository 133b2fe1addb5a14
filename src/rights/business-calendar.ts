// Business days for the request clock: a weekday that is not a public holiday of a
// country (and optional region), holidays from date-holidays. Dates here are plain
// calendar dates ('YYYY-MM-DD'); time zones are applied only when a date becomes an
// instant (the clock's end of day), so day arithmetic never meets a DST change.
//
// Which holidays count: only date-holidays' type "public" (statutory days off, including
// the substitute days it types public, e.g. a GB bank holiday moved off a weekend).
// "bank" (e.g. Good Friday in Ireland, a day banks close but the law does not make a
// holiday), "optional", "school" and "observance" days are business days: counting them
// as days off would move every deadline later than the law or the notice allows, while
// working through them only ever makes the clock earlier (the safe side).
import { createRequire } from 'node:module';
import type Holidays from 'date-holidays';
import { DateTime } from 'luxon';

export interface CalendarPlace {
  country: string;
  region?: string;
}

/** A plain date, 'YYYY-MM-DD'. */
export type PlainDate = string;

const ONE_DAY_MS = 86_400_000;

// The holiday data of every country is about 30 MB of RSS once loaded: the service loads
// it at the first deadline it computes, not at start.
const require = createRequire(import.meta.url);
let HolidaysClass: typeof Holidays | undefined;
let known: Holidays | undefined;
function holidaysClass(): typeof Holidays {
  return (HolidaysClass ??= require('date-holidays') as typeof Holidays);
}
let countryList: Record<string, string> | undefined;

/** Countries date-holidays has data for (ISO 3166-1 alpha-2 codes). */
export function hasHolidayData(country: string): boolean {
  known ??= new (holidaysClass())();
  countryList ??= known.getCountries('en');
  return Object.hasOwn(countryList, country);
}

/** The subdivisions date-holidays knows for a country (ISO 3166-2 codes without the country). */
export function holidayRegions(country: string): string[] {
  return hasHolidayData(country) ? Object.keys(known!.getStates(country, 'en') ?? {}) : [];
}

/** One place's business days; built once per place and kept (holiday rules take a while to compile). */
export class BusinessCalendar {
  readonly place: CalendarPlace;
  private readonly holidays: Holidays;
  private readonly years = new Map<number, Set<PlainDate>>();

  private constructor(place: CalendarPlace) {
    this.place = place;
    const HolidaysOf = holidaysClass();
    this.holidays = place.region ? new HolidaysOf(place.country, place.region) : new HolidaysOf(place.country);
  }

  private static cache = new Map<string, BusinessCalendar>();

  /** Callers check the place first (hasHolidayData, holidayRegions); this one trusts it. */
  static for(place: CalendarPlace): BusinessCalendar {
    const key = `${place.country}-${place.region ?? ''}`;
    let calendar = BusinessCalendar.cache.get(key);
    if (!calendar) {
      calendar = new BusinessCalendar(place);
      BusinessCalendar.cache.set(key, calendar);
    }
    return calendar;
  }

  /** The public holidays of one year, as plain dates in the place's own calendar. */
  publicHolidays(year: number): Set<PlainDate> {
    let set = this.years.get(year);
    if (set) return set;
    set = new Set();
    for (const h of this.holidays.getHolidays(year)) {
      if (h.type !== 'public') continue;
      // `date` is the local date the holiday starts; a holiday of several days has an end
      // further on (start and end are instants, so their difference counts whole days).
      const days = Math.max(1, Math.round((h.end.getTime() - h.start.getTime()) / ONE_DAY_MS));
      for (let i = 0; i < days; i++) set.add(addCalendarDays(h.date.slice(0, 10), i));
    }
    this.years.set(year, set);
    return set;
  }

  isBusinessDay(date: PlainDate): boolean {
    const d = DateTime.fromISO(date, { zone: 'UTC' });
    if (d.weekday >= 6) return false; // Saturday, Sunday
    // The year before too: a holiday of several days may start in late December.
    return !this.publicHolidays(d.year).has(date) && !this.publicHolidays(d.year - 1).has(date);
  }

  /** Business day N after `date` (day 1 is the first business day after it). */
  addBusinessDays(date: PlainDate, n: number): PlainDate {
    let day = date;
    // Holiday data that made every day a holiday must fail, not spin: no real calendar
    // needs more than a year of extra days to find N business days.
    const limit = n * 7 + 366;
    for (let counted = 0, scanned = 0; counted < n; scanned++) {
      if (scanned > limit) throw new Error(`business calendar ${this.place.country}${this.place.region ? `-${this.place.region}` : ''}: no ${n} business days within ${limit} days of ${date}`);
      day = addCalendarDays(day, 1);
      if (this.isBusinessDay(day)) counted++;
    }
    return day;
  }
}

export function addCalendarDays(date: PlainDate, n: number): PlainDate {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days: n }).toISODate()!;
}

/** The same day of the month N months later, or that month's last day when it has no such day. */
export function addMonths(date: PlainDate, n: number): PlainDate {
  // luxon clamps to the month's last day (Jan 31 + 1 month = Feb 28, or 29 in a leap year).
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ months: n }).toISODate()!;
}
