import { describe, expect, it } from "vitest";
import { cell, minorDigits, money, percent, rowsOf, toNumber } from "./format";

describe("amounts in minor units", () => {
  it("uses the currency's own decimals", () => {
    expect(minorDigits("USD")).toBe(2);
    expect(minorDigits("JPY")).toBe(0);
    expect(minorDigits("KWD")).toBe(3);
  });

  it("formats integers and decimal strings exactly", () => {
    expect(money(123456, "USD")).toBe(new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" }).format(1234.56));
    expect(money("500", "JPY")).toBe(new Intl.NumberFormat(undefined, { style: "currency", currency: "JPY" }).format(500));
    expect(money(null, "USD")).toBe("—");
    expect(money("12abc", "USD")).toBe("—");
  });

  it("formats *_minor fields of a row as money", () => {
    expect(cell("total_minor", 990, "EUR")).toBe(money(990, "EUR"));
    expect(cell("paid", true)).toBe("yes");
    expect(cell("anything", null)).toBe("—");
  });
});

describe("numbers and rates", () => {
  it("reads JSON numbers and decimal strings, nothing else", () => {
    expect(toNumber("0.25")).toBe(0.25);
    expect(toNumber(3)).toBe(3);
    expect(toNumber("")).toBeNull();
    expect(toNumber({})).toBeNull();
    expect(toNumber(Number.NaN)).toBeNull();
  });

  it("shows fractions as percentages", () => {
    expect(percent("0.0312")).toBe("3.1%");
    expect(percent(1.041)).toBe("104.1%");
    expect(percent(null)).toBe("—");
  });
});

describe("rows of a table-like payload", () => {
  it("finds the list wherever the endpoint puts it", () => {
    expect(rowsOf([{ a: 1 }, 2])).toEqual([{ a: 1 }]);
    expect(rowsOf({ data: [{ a: 1 }], next_cursor: null })).toEqual([{ a: 1 }]);
    expect(rowsOf({ currency: "USD", rows: [{ key: "pro" }] })).toEqual([{ key: "pro" }]);
    expect(rowsOf({ odd_name: [{ x: 1 }] })).toEqual([{ x: 1 }]);
    expect(rowsOf(null)).toEqual([]);
  });
});
