import { describe, expect, it } from "vitest";
import { cohortValues, featureRows, fraction, heatShade, metric, parseEntitlements, pickKeys } from "./shapes";

describe("metrics", () => {
  it("reads {value, previous} or a bare value", () => {
    expect(metric({ value: 10, previous: 8 })).toEqual({ value: 10, previous: 8 });
    expect(metric("0.04")).toEqual({ value: "0.04", previous: null });
    expect(metric(undefined)).toEqual({ value: null, previous: null });
  });
});

describe("chart fields", () => {
  it("prefers known names, then the first field of the kind", () => {
    expect(pickKeys([{ key: "pro", customers: 3, revenue: 100, mrr: 90 }])).toEqual({ labelKey: "key", valueKey: "mrr" });
    expect(pickKeys([{ label: "x", weight: 2 }])).toEqual({ labelKey: "label", valueKey: "weight" });
    expect(pickKeys([])).toEqual({ labelKey: null, valueKey: null });
  });
});

describe("cohorts", () => {
  it("places cells by months since signup", () => {
    const row = { cohort: "2026-01", cells: [{ months_since: 0, retention: "1" }, { months_since: 2, retention: "0.5" }] };
    const values = cohortValues(row);
    expect(values.length).toBe(3);
    expect(fraction(values[1], false)).toBeNull();
    expect(fraction(values[2], false)).toBe(0.5);
  });

  it("takes plain lists, in percent or fractions", () => {
    expect(cohortValues({ cohort: "2026-01", retention: [100, 80] })).toEqual([100, 80]);
    expect(fraction(80, true)).toBe(0.8);
  });

  it("keeps every shade readable with dark or white text", () => {
    for (let r = 0; r <= 1; r += 0.01) {
      const { lightness, dark } = heatShade(r);
      expect(dark ? lightness <= 55 : lightness >= 61).toBe(true);
    }
    expect(heatShade(1).dark).toBe(true);
    expect(heatShade(0).dark).toBe(false);
  });
});

describe("usage by feature", () => {
  it("reads each feature's latest period", () => {
    const data = {
      features: [
        {
          event_type: "api_call",
          periods: [
            { period: "2026-10-01", adoption: 0.5, customers: 5, events: 10 },
            { period: "2026-11-01", adoption: 0.9, customers: 9, events: 40 },
          ],
          retention: { n: 12, rho: 0.3141, p_value: 0.01, reason: null },
        },
        { event_type: "export", periods: [], retention: { n: 3, rho: null, p_value: null, reason: "sample below 30" } },
      ],
    };
    expect(featureRows(data)).toEqual([
      { event_type: "api_call", adoption: 0.9, customers: 9, events: 40, retention: "ρ 0.31 (n=12)" },
      { event_type: "export", adoption: null, customers: null, events: null, retention: "sample below 30" },
    ]);
  });
});

describe("plan entitlements", () => {
  it("parses limits and features, one per line", () => {
    expect(parseEntitlements("ai_requests = 1000\n\nsso=true\nbeta=false")).toEqual({ ai_requests: 1000, sso: true, beta: false });
  });

  it("refuses what billing would misread", () => {
    expect(() => parseEntitlements("ai_requests")).toThrow(/meter=limit/);
    expect(() => parseEntitlements("ai_requests=1.5")).toThrow();
    expect(() => parseEntitlements("=3")).toThrow();
  });
});
