import { count, type JsonObject, money, percent, toNumber } from "../format";
import { metric } from "../shapes";

type Kind = "money" | "count" | "rate";
interface Kpi {
  key: string;
  label: string;
  kind: Kind;
  lowerIsBetter?: boolean;
}

export const KPIS: Kpi[] = [
  { key: "mrr", label: "MRR", kind: "money" },
  { key: "arr", label: "ARR", kind: "money" },
  { key: "active_customers", label: "Active customers", kind: "count" },
  { key: "customer_churn_rate", label: "Customer churn", kind: "rate", lowerIsBetter: true },
  { key: "nrr", label: "NRR", kind: "rate" },
  { key: "arpa", label: "ARPA", kind: "money" },
];

function show(kind: Kind, value: unknown, currency: string): string {
  if (kind === "money") return money(value, currency);
  return kind === "rate" ? percent(value) : count(value);
}

function Delta({ kpi, value, previous }: { kpi: Kpi; value: unknown; previous: unknown }) {
  const now = toNumber(value);
  const before = toNumber(previous);
  if (now === null || before === null) return <span class="delta">no previous value</span>;
  const change = now - before;
  const good = change === 0 ? null : (change > 0) !== Boolean(kpi.lowerIsBetter);
  const arrow = change > 0 ? "▲" : change < 0 ? "▼" : "■";
  const text =
    kpi.kind === "rate"
      ? `${(change * 100).toFixed(1)} pts`
      : before !== 0
        ? `${((change / Math.abs(before)) * 100).toFixed(1)}%`
        : show(kpi.kind, change, "");
  return (
    <span class={good === null ? "delta" : good ? "delta up" : "delta down"}>
      <span aria-hidden="true">{arrow}</span> {text} <span class="muted">vs previous</span>
    </span>
  );
}

export function KpiCards({ data }: { data: JsonObject }) {
  const currency = typeof data.currency === "string" ? data.currency : "USD";
  return (
    <div class="kpis">
      {KPIS.map((kpi) => {
        const { value, previous } = metric(data[kpi.key]);
        return (
          <div class="kpi" key={kpi.key} data-kpi={kpi.key} data-value={value === null ? "" : String(value)}>
            <span class="kpi-label">{kpi.label}</span>
            <span class="kpi-value">{show(kpi.kind, value, currency)}</span>
            <Delta kpi={kpi} value={value} previous={previous} />
          </div>
        );
      })}
    </div>
  );
}
