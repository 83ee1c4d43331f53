// Reading the API's payloads whose exact shape may vary (analytics grows them): pure functions, no DOM, unit-tested.
import { isObject, type Json, type JsonObject, rowsOf, toNumber } from "./format";

/** A metric is a bare value or `{"value", "previous"}`. */
export function metric(raw: unknown): { value: unknown; previous: unknown } {
  if (isObject(raw)) return { value: raw.value ?? raw.current ?? null, previous: raw.previous ?? null };
  return { value: raw ?? null, previous: null };
}

const LABEL_KEYS = ["plan", "plan_key", "plan_name", "name", "key", "group", "feature", "event_type", "month"];
const VALUE_KEYS = ["mrr", "mrr_minor", "revenue", "revenue_minor", "amount_minor", "total_minor", "value", "count", "events", "adoption"];

/** The label and value fields of rows whose exact shape may vary: known names first, else the first of a kind. */
export function pickKeys(rows: JsonObject[]): { labelKey: string | null; valueKey: string | null } {
  const first = rows[0] ?? {};
  const keys = Object.keys(first);
  const labelKey = LABEL_KEYS.find((k) => typeof first[k] === "string") ?? keys.find((k) => typeof first[k] === "string") ?? null;
  const valueKey = VALUE_KEYS.find((k) => toNumber(first[k]) !== null) ?? keys.find((k) => typeof first[k] === "number") ?? null;
  return { labelKey, valueKey };
}

/** Retention as a fraction (0.83) or a percentage (83): a matrix holding values above 1.5 is in percent. */
export function fraction(value: unknown, inPercent: boolean): number | null {
  const raw = isObject(value) ? toNumber(value.retention ?? value.rate) : toNumber(value);
  return raw === null ? null : inPercent ? raw / 100 : raw;
}

/** A cohort's cells by months since signup: `cells: [{"months_since", "retention"}]`, or a plain list of values. */
export function cohortValues(row: JsonObject): Json[] {
  let values: Json[] = [];
  for (const key of ["cells", "retention", "values", "periods", "rates"]) {
    if (Array.isArray(row[key])) {
      values = row[key] as Json[];
      break;
    }
  }
  if (!values.every((v) => isObject(v) && typeof v.months_since === "number")) return values;
  const placed: Json[] = [];
  for (const cell of values as JsonObject[]) placed[cell.months_since as number] = cell;
  return placed;
}

/** A cell's blue for its retention, kept off the middle band where neither dark nor white text reaches 4.5:1. */
export function heatShade(retention: number): { lightness: number; dark: boolean } {
  const lightness = 96 - Math.max(0, Math.min(1, retention)) * 60;
  return lightness < 58 ? { lightness: Math.min(lightness, 55), dark: true } : { lightness: Math.max(lightness, 61), dark: false };
}

export interface FeatureRow {
  event_type: string;
  adoption: number | null;
  customers: number | null;
  events: number | null;
  retention: string;
}

function claim(value: Json | undefined): string {
  if (!isObject(value)) return "—";
  if (value.rho === null || value.rho === undefined) return value.reason ? String(value.reason) : `n=${String(value.n ?? "?")}`;
  return `ρ ${Number(value.rho).toFixed(2)} (n=${String(value.n)})`;
}

/** Each feature at its latest period: adoption (share of active customers using it), users, events. */
export function featureRows(data: Json): FeatureRow[] {
  return rowsOf(data).map((f) => {
    const periods = Array.isArray(f.periods) ? f.periods.filter(isObject) : [];
    const latest = periods[periods.length - 1] ?? {};
    return {
      event_type: String(f.event_type ?? f.feature ?? f.name ?? "?"),
      adoption: toNumber(latest.adoption ?? f.adoption),
      customers: toNumber(latest.customers ?? f.customers),
      events: toNumber(latest.events ?? f.events),
      retention: claim(f.retention),
    };
  });
}

/** Parses `meter=limit` / `feature=true` lines into the plan's entitlements. */
export function parseEntitlements(text: string): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const [key, raw = ""] = line.split("=").map((p) => p.trim());
    const limit = raw === "true" ? true : raw === "false" ? false : /^\d+$/.test(raw) ? Number(raw) : null;
    if (!key || limit === null) throw new Error(`“${line}”: write meter=limit (a whole number) or feature=true|false`);
    out[key] = limit;
  }
  return out;
}

