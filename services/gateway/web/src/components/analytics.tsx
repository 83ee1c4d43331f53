// Tables for the analytics panels whose shape is known (GET /v1/metrics/revenue, GET /v1/usage/features), each
// falling back to a generic table when a field is missing.
import { count, currencyOf, type Json, type JsonObject, money, percent, rowsOf } from "../format";
import { type FeatureRow, featureRows } from "../shapes";
import { BarsOf } from "./charts";
import { autoColumns, type Column, Table } from "./table";

export function RevenueByPlan({ data }: { data: Json }) {
  const rows = rowsOf(data);
  const currency = currencyOf(data);
  const known = rows.length > 0 && "key" in rows[0] && "revenue" in rows[0];
  const columns: Column<JsonObject>[] = known
    ? [
        { key: "key", label: "Plan", render: (r) => (r.key ? String(r.key) : "(no subscription)") },
        { key: "subscribers", label: "Subscribers", numeric: true, render: (r) => count(r.subscribers ?? r.customers) },
        { key: "mrr", label: "MRR", numeric: true, render: (r) => money(r.mrr, currency) },
        { key: "revenue", label: "Revenue", numeric: true, render: (r) => money(r.revenue, currency) },
      ]
    : autoColumns(rows, data);
  return (
    <>
      <BarsOf data={data} title="Revenue by plan" asMoney />
      <Table caption="Revenue by plan" columns={columns} rows={rows} rowKey={(r, i) => String(r.key ?? i)} />
    </>
  );
}

export function UsageByFeature({ data }: { data: Json }) {
  const rows = featureRows(data);
  const columns: Column<FeatureRow>[] = [
    { key: "event_type", label: "Feature" },
    { key: "adoption", label: "Adoption", numeric: true, render: (r) => percent(r.adoption) },
    { key: "customers", label: "Customers", numeric: true, render: (r) => count(r.customers) },
    { key: "events", label: "Events", numeric: true, render: (r) => count(r.events) },
    { key: "retention", label: "Retention link", render: (r) => r.retention },
  ];
  const bars = { data: rows.map((r) => ({ feature: r.event_type, events: r.events ?? 0 })) };
  return (
    <>
      <BarsOf data={bars} title="Events by feature, latest period" asMoney={false} />
      <Table caption="Usage by feature, latest period" columns={columns} rows={rows} rowKey={(r) => r.event_type} />
    </>
  );
}
