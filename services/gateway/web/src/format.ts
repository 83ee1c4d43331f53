// Pure formatting of what the API sends: amounts in integer minor units + currency, decimal strings, ISO times.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A number from a JSON number or a decimal string; null for anything else. */
export function toNumber(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return null;
}

const digitsCache = new Map<string, number>();

export function minorDigits(currency: string): number {
  const code = currency.toUpperCase();
  let digits = digitsCache.get(code);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsCache.set(code, digits);
  }
  return digits;
}

export function money(minor: unknown, currency: string | null | undefined, compact = false): string {
  const amount = toNumber(minor);
  if (amount === null) return "—";
  const code = (currency || "USD").toUpperCase();
  const major = amount / 10 ** minorDigits(code);
  try {
    return new Intl.NumberFormat(undefined, {
      style: "currency",
      currency: code,
      notation: compact ? "compact" : "standard",
    }).format(major);
  } catch {
    return `${major.toFixed(2)} ${code}`;
  }
}

export function count(value: unknown): string {
  const n = toNumber(value);
  return n === null ? "—" : new Intl.NumberFormat().format(n);
}

/** Rates arrive as fractions ("0.042" is 4.2%). */
export function percent(value: unknown, digits = 1): string {
  const n = toNumber(value);
  return n === null ? "—" : `${(n * 100).toFixed(digits)}%`;
}

export function date(value: unknown): string {
  if (typeof value !== "string") return "—";
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? value : parsed.toLocaleDateString(undefined, { timeZone: "UTC" });
}

export function dateTime(value: unknown): string {
  if (typeof value !== "string") return "—";
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime())
    ? value
    : parsed.toLocaleString(undefined, { timeZone: "UTC", dateStyle: "medium", timeStyle: "short" }) + " UTC";
}

export function label(key: string): string {
  const words = key.replace(/_minor$/, "").replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Any scalar the API sends, as text; amounts (`*_minor` keys) with the row's currency. */
export function cell(key: string, value: Json | undefined, currency?: string): string {
  if (value === null || value === undefined) return "—";
  if (key.endsWith("_minor")) return money(value, currency);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) return dateTime(value);
  if (typeof value === "object") return JSON.stringify(value);
  return typeof value === "number" ? count(value) : value;
}

/** The rows of a table-like payload: an array, or the first array among an object's values (`data`, `items`, ...). */
export function rowsOf(payload: unknown): JsonObject[] {
  if (Array.isArray(payload)) return payload.filter(isObject);
  if (isObject(payload)) {
    for (const key of ["data", "items", "rows", "customers", "features", "plans", "groups", "alerts", "cohorts"]) {
      const value = payload[key];
      if (Array.isArray(value)) return value.filter(isObject);
    }
    const first = Object.values(payload).find(Array.isArray);
    if (first) return first.filter(isObject);
  }
  return [];
}

export function currencyOf(payload: unknown, fallback = "USD"): string {
  return isObject(payload) && typeof payload.currency === "string" ? payload.currency : fallback;
}
