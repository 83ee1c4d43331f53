import type { ChartConfiguration } from "chart.js";
import { useMemo } from "preact/hooks";
import { currencyOf, isObject, type Json, type JsonObject, label, minorDigits, money, rowsOf, toNumber } from "../format";
import { cohortValues, fraction, heatShade, pickKeys } from "../shapes";
import { ChartCanvas, PALETTE } from "./chart";
import { type Column, Table } from "./table";

const BRIDGE: { key: string; label: string; sign: 1 | -1; color: string }[] = [
  { key: "new", label: "New", sign: 1, color: "#15803d" },
  { key: "expansion", label: "Expansion", sign: 1, color: "#1d4ed8" },
  { key: "reactivation", label: "Reactivation", sign: 1, color: "#0e7490" },
  { key: "contraction", label: "Contraction", sign: -1, color: "#b45309" },
  { key: "churned", label: "Churned", sign: -1, color: "#be123c" },
];

function moneyTicks(currency: string) {
  return { callback: (v: string | number) => money(Number(v) * 10 ** minorDigits(currency), currency, true) };
}

export function MrrBridge({ data }: { data: JsonObject }) {
  const currency = currencyOf(data);
  const months = rowsOf(data.months ?? data);
  const scale = 10 ** minorDigits(currency);
  const config = useMemo<ChartConfiguration>(
    () => ({
      type: "bar",
      data: {
        labels: months.map((m) => String(m.month ?? "")),
        datasets: [
          ...BRIDGE.map((b) => ({
            type: "bar" as const,
            label: b.label,
            data: months.map((m) => (b.sign * (toNumber(m[b.key]) ?? 0)) / scale),
            backgroundColor: b.color,
            stack: "bridge",
          })),
          {
            type: "line" as const,
            label: "Closing MRR",
            data: months.map((m) => (toNumber(m.closing_mrr) ?? 0) / scale),
            borderColor: "#0f172a",
            backgroundColor: "#0f172a",
            yAxisID: "mrr",
          },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true },
          y: { stacked: true, ticks: moneyTicks(currency), title: { display: true, text: "Movement" } },
          mrr: { position: "right", ticks: moneyTicks(currency), grid: { drawOnChartArea: false }, title: { display: true, text: "MRR" } },
        },
        plugins: {
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(Number(c.raw) * scale, currency)}` } },
        },
      },
    }),
    [data],
  );
  const columns: Column<JsonObject>[] = [
    { key: "month", label: "Month" },
    ...["opening_mrr", ...BRIDGE.map((b) => b.key), "closing_mrr", "usage_revenue"].map((key) => ({
      key,
      label: label(key),
      numeric: true,
      render: (row: JsonObject) => money(row[key], currency),
    })),
  ];
  const last = months[months.length - 1];
  return (
    <>
      <ChartCanvas
        config={config}
        summary={`MRR bridge over ${months.length} months${last ? `, closing at ${money(last.closing_mrr, currency)} in ${String(last.month)}` : ""}`}
      />
      <details>
        <summary>Show as a table</summary>
        <Table caption="MRR bridge by month" columns={columns} rows={months} rowKey={(r) => String(r.month)} />
      </details>
    </>
  );
}

export function BarsOf({ data, title, asMoney }: { data: Json; title: string; asMoney: boolean }) {
  const rows = rowsOf(data);
  const currency = currencyOf(data);
  const { labelKey, valueKey } = pickKeys(rows);
  const isMoney = asMoney && valueKey !== null && /mrr|revenue|amount|_minor/.test(valueKey);
  const scale = isMoney ? 10 ** minorDigits(currency) : 1;
  const config = useMemo<ChartConfiguration>(
    () => ({
      type: "bar",
      data: {
        labels: rows.map((r) => (labelKey ? String(r[labelKey] ?? "") : "") || "(none)"),
        datasets: [
          {
            label: valueKey ? label(valueKey) : title,
            data: rows.map((r) => (valueKey ? (toNumber(r[valueKey]) ?? 0) / scale : 0)),
            backgroundColor: rows.map((_, i) => PALETTE[i % PALETTE.length]),
          },
        ],
      },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false } },
        scales: isMoney ? { x: { ticks: moneyTicks(currency) } } : {},
      },
    }),
    [data],
  );
  if (!labelKey || !valueKey) return null;
  const summary = rows.map((r) => `${String(r[labelKey])}: ${isMoney ? money(r[valueKey], currency) : String(r[valueKey])}`).join(", ");
  return <ChartCanvas config={config} summary={`${title}. ${summary}`} />;
}

export function CohortHeatmap({ data }: { data: Json }) {
  const rows = rowsOf(data);
  const matrix = rows.map(cohortValues);
  const width = Math.max(0, ...matrix.map((v) => v.length));
  const inPercent = matrix.some((values) => values.some((v) => (toNumber(isObject(v) ? (v.retention ?? v.rate) : v) ?? 0) > 1.5));
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label="Cohort retention">
      <table class="heatmap">
        <caption class="visually-hidden">Retention by signup month (rows) and months since signup (columns)</caption>
        <thead>
          <tr>
            <th scope="col">Cohort</th>
            <th scope="col" class="num">Size</th>
            {Array.from({ length: width }, (_, i) => (
              <th scope="col" class="num" key={i}>
                M{i}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            <tr key={r}>
              <th scope="row">{String(row.cohort ?? row.month ?? row.signup_month ?? row.period ?? r)}</th>
              <td class="num">{String(row.size ?? row.customers ?? row.starting ?? "—")}</td>
              {Array.from({ length: width }, (_, i) => {
                const value = fraction(matrix[r][i], inPercent);
                if (value === null) return <td key={i} class="heat-empty" />;
                const { lightness, dark } = heatShade(value);
                return (
                  <td key={i} class={dark ? "heat dark" : "heat"} style={{ backgroundColor: `hsl(221 83% ${lightness}%)` }}>
                    {(value * 100).toFixed(0)}%
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
