import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { get, query } from "../api";
import { RevenueByPlan, UsageByFeature } from "../components/analytics";
import { CohortHeatmap, MrrBridge } from "../components/charts";
import { AlertsFeed } from "../components/feed";
import { KpiCards } from "../components/kpis";
import { autoColumns, Table } from "../components/table";
import { ExportButton, Link, Panel, useLoad } from "../components/ui";
import { dateTime, isObject, type Json, type JsonObject, rowsOf } from "../format";
import { InvoiceTable, type Invoice } from "./invoices";

type Status = "ok" | "unavailable" | "timeout" | "error";
interface PanelData {
  status: Status;
  data: Json;
  detail?: string | null;
}
interface Dashboard {
  generated_at: string;
  panels: Record<string, PanelData | undefined>;
}

const NOT_OK: Record<Exclude<Status, "ok">, string> = {
  unavailable: "Unavailable: the service behind this panel does not answer.",
  timeout: "Timed out: the service behind this panel is slow to answer.",
  error: "The service behind this panel answered with an error.",
};
const NOT_OK_TITLE: Record<Exclude<Status, "ok">, string> = { unavailable: "Unavailable", timeout: "Timed out", error: "Error" };

interface SlotProps {
  title: string;
  id: string;
  dashboard: ReturnType<typeof useLoad<Dashboard>>;
  panel: string;
  isEmpty?: (data: Json) => boolean;
  actions?: ComponentChildren;
  wide?: boolean;
  render: (data: Json) => ComponentChildren;
}

/** One panel of `GET /v1/dashboard`: its own status decides what it shows; the other panels render regardless. */
function Slot({ title, id, dashboard, panel, isEmpty, actions, wide, render }: SlotProps) {
  const found = dashboard.data?.panels?.[panel];
  let error = dashboard.error;
  if (!error && dashboard.data && !found) error = "This gateway does not serve this panel yet.";
  if (!error && found && found.status !== "ok") {
    const status = found.status as Exclude<Status, "ok">;
    error = found.detail ? `${NOT_OK_TITLE[status] ?? String(status)}: ${found.detail}` : (NOT_OK[status] ?? `Status: ${String(status)}.`);
  }
  const empty = !error && found && (found.data === null || (isEmpty ?? ((d: Json) => rowsOf(d).length === 0))(found.data));
  return (
    <Panel title={title} id={id} loading={dashboard.loading && !dashboard.data} error={error} empty={empty ? "Nothing to show yet." : false} actions={actions} wide={wide}>
      {found && found.data !== null && render(found.data)}
    </Panel>
  );
}

/** The first rows of a list whose shape analytics decides; a customer's id links to the customer's page. */
function RowsTable({ data, caption }: { data: Json; caption: string }) {
  const rows = rowsOf(data);
  const columns = autoColumns(rows, data).map((c) =>
    c.key === "customer_id" ? { ...c, render: (r: JsonObject) => <Link href={`/customers/${encodeURIComponent(String(r.customer_id))}`}>{String(r.customer_id)}</Link> } : c,
  );
  return <Table caption={caption} columns={columns} rows={rows.slice(0, 10)} rowKey={(r, i) => String(r.id ?? r.customer_id ?? i)} />;
}

function Cohorts() {
  const [kind, setKind] = useState<"logo" | "revenue">("logo");
  const path = `/v1/metrics/cohorts${query({ by: "month", kind })}`;
  const cohorts = useLoad(() => get<Json>(path), [path]);
  const toggle = (
    <fieldset class="toggle">
      <legend class="visually-hidden">Retention kind</legend>
      {(["logo", "revenue"] as const).map((k) => (
        <label key={k}>
          <input type="radio" name="cohort-kind" value={k} checked={kind === k} onChange={() => setKind(k)} /> {k === "logo" ? "Logos" : "Revenue"}
        </label>
      ))}
      <ExportButton path={path} filename={`cohorts-${kind}.csv`} />
    </fieldset>
  );
  return (
    <Panel title="Cohort retention" id="cohorts" wide loading={cohorts.loading} error={cohorts.error} empty={cohorts.data !== null && rowsOf(cohorts.data).length === 0 && "No cohorts yet."} actions={toggle}>
      {cohorts.data !== null && <CohortHeatmap data={cohorts.data} />}
    </Panel>
  );
}

/** The live feed runs whatever the dashboard's alerts panel says; that panel only seeds it. */
function AlertsPanel({ dashboard }: { dashboard: ReturnType<typeof useLoad<Dashboard>> }) {
  if (dashboard.loading && !dashboard.data) return <Panel title="Alerts and payments" id="alerts" loading />;
  const found = dashboard.data?.panels?.alerts;
  const seeded = found?.status === "ok" ? rowsOf(found.data) : [];
  return (
    <Panel title="Alerts and payments" id="alerts">
      {found?.status !== "ok" && <p class="state note">Earlier alerts are unavailable; new ones appear below as they happen.</p>}
      <AlertsFeed initial={seeded} />
    </Panel>
  );
}

export function Overview() {
  const dashboard = useLoad(() => get<Dashboard>("/v1/dashboard"), []);
  const shared = { dashboard };
  return (
    <>
      <div class="page-head">
        <h1>Overview</h1>
        <p class="muted">
          {dashboard.data ? `As of ${dateTime(dashboard.data.generated_at)}` : ""}{" "}
          <button type="button" class="secondary" onClick={dashboard.reload} disabled={dashboard.loading}>
            Refresh
          </button>
        </p>
      </div>
      <div class="grid">
        <Slot {...shared} title="Key figures" id="kpis" panel="kpis" wide isEmpty={(d) => !isObject(d)} render={(d) => <KpiCards data={d as JsonObject} />} />
        <Slot
          {...shared}
          title="MRR bridge"
          id="mrr-bridge"
          panel="mrr_bridge"
          wide
          isEmpty={(d) => rowsOf(isObject(d) ? d.months : d).length === 0}
          actions={<ExportButton path="/v1/metrics/mrr" filename="mrr-bridge.csv" />}
          render={(d) => <MrrBridge data={d as JsonObject} />}
        />
        <Slot
          {...shared}
          title="Revenue by plan"
          id="revenue-by-plan"
          panel="revenue_by_plan"
          actions={<ExportButton path="/v1/metrics/revenue?group_by=plan" filename="revenue-by-plan.csv" />}
          render={(d) => <RevenueByPlan data={d} />}
        />
        <Slot
          {...shared}
          title="Usage by feature"
          id="usage-by-feature"
          panel="usage_by_feature"
          actions={<ExportButton path="/v1/usage/features" filename="usage-by-feature.csv" />}
          render={(d) => <UsageByFeature data={d} />}
        />
        <Cohorts />
        <Slot {...shared} title="At-risk customers" id="at-risk" panel="at_risk_customers" render={(d) => <RowsTable data={d} caption="At-risk customers" />} />
        <AlertsPanel dashboard={dashboard} />
        <Slot
          {...shared}
          title="Recent invoices"
          id="recent-invoices"
          panel="recent_invoices"
          wide
          actions={<ExportButton path="/v1/invoices?limit=100" filename="invoices.csv" />}
          render={(d) => <InvoiceTable invoices={rowsOf(d) as unknown as Invoice[]} />}
        />
      </div>
    </>
  );
}
