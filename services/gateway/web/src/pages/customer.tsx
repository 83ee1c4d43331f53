import { useState } from "preact/hooks";
import { can, get, type Page, query, type User } from "../api";
import { ChangePlanForm, GrantCreditsForm, type Subscription } from "../components/forms";
import { type Column, Table } from "../components/table";
import { ExportButton, Panel, StatusBadge, useLoad } from "../components/ui";
import { cell, count, date, isObject, type Json, label, money, percent, toNumber } from "../format";
import type { Customer as CustomerOut } from "./customers";
import { type Invoice, InvoiceTable } from "./invoices";

interface Limit {
  meter: string;
  limit: number;
  used: string;
  remaining: string;
  percent_used: string;
}
interface Entitlements {
  period_start: string | null;
  period_end: string | null;
  limits: Limit[];
  features: Record<string, boolean>;
}
interface Grant {
  id: string;
  credit_type: string;
  meter: string;
  quantity: string;
  remaining: string;
  amount_minor: number;
  currency: string;
  expires_at: string | null;
  expired: boolean;
}
interface Credits {
  currency: string;
  balances: { credit_type: string; meter: string; remaining: string; next_expiry: string | null }[];
  grants: Grant[];
  monetary_balance_minor: number;
}
interface Collection {
  invoice_id: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
}

const PAYMENTS_SHOWN = 10;

function Subscriptions({ customerId, user }: { customerId: string; user: User }) {
  const subs = useLoad(() => get<Page<Subscription>>(`/v1/subscriptions${query({ customer_id: customerId, limit: 20 })}`), [customerId]);
  const [changed, setChanged] = useState<string | null>(null);
  const columns: Column<Subscription>[] = [
    { key: "plan", label: "Plan", render: (s) => `${s.plan.key} v${s.plan.version}` },
    { key: "status", label: "Status", render: (s) => <StatusBadge status={s.status} /> },
    { key: "period", label: "Current period", render: (s) => `${date(s.current_period_start)} – ${date(s.current_period_end)}` },
    { key: "scheduled", label: "Scheduled", render: (s) => (s.scheduled_plan ? `${s.scheduled_plan.key} at period end` : s.cancel_at_period_end ? "cancels at period end" : "—") },
  ];
  const live = (subs.data?.data ?? []).filter((s) => !["canceled"].includes(s.status));
  return (
    <Panel title="Plan" id="subscriptions" wide loading={subs.loading && !subs.data} error={subs.error} empty={subs.data?.data.length === 0 && "No subscription."}>
      {subs.data && <Table caption="Subscriptions" columns={columns} rows={subs.data.data} rowKey={(s) => s.id} />}
      {changed && (
        <p class="ok" role="status">
          {changed}
        </p>
      )}
      {can.write(user) &&
        live.map((s) => (
          <ChangePlanForm
            key={s.id}
            subscription={s}
            onDone={(after) => {
              setChanged(
                after.scheduled_plan ? `Moves to ${after.scheduled_plan.key} at the end of the period.` : `Now on ${after.plan.key}.`,
              );
              subs.reload();
            }}
          />
        ))}
    </Panel>
  );
}

function Usage({ customerId }: { customerId: string }) {
  const ent = useLoad(() => get<Entitlements>(`/v1/customers/${encodeURIComponent(customerId)}/entitlements`), [customerId]);
  const features = Object.entries(ent.data?.features ?? {});
  return (
    <Panel title="Usage against limits" id="usage" loading={ent.loading} error={ent.error} empty={ent.data?.limits.length === 0 && features.length === 0 && "No limits on this plan."}>
      {ent.data && (
        <>
          <p class="muted">
            Period {date(ent.data.period_start)} – {date(ent.data.period_end)}
          </p>
          <ul class="limits">
            {ent.data.limits.map((l) => {
              const used = toNumber(l.percent_used) ?? 0;
              return (
                <li key={l.meter} class={used >= 100 ? "over" : used >= 80 ? "near" : undefined}>
                  <span class="limit-name" id={`limit-${l.meter}`}>
                    {l.meter}
                  </span>
                  <progress max={100} value={Math.min(used, 100)} aria-labelledby={`limit-${l.meter}`} />
                  <span>
                    {count(l.used)} of {count(l.limit)} ({Math.round(used)}%)
                  </span>
                </li>
              );
            })}
          </ul>
          {features.length > 0 && (
            <p>
              Features:{" "}
              {features.map(([name, on]) => (
                <span key={name} class={on ? "badge badge-paid" : "badge"}>
                  {name} {on ? "on" : "off"}
                </span>
              ))}
            </p>
          )}
        </>
      )}
    </Panel>
  );
}

function CreditsPanel({ customerId, user }: { customerId: string; user: User }) {
  const credits = useLoad(() => get<Credits>(`/v1/customers/${encodeURIComponent(customerId)}/credits?limit=20`), [customerId]);
  const columns: Column<Grant>[] = [
    { key: "credit_type", label: "Type" },
    { key: "meter", label: "Meter" },
    { key: "remaining", label: "Left", numeric: true, render: (g) => `${count(g.remaining)} of ${count(g.quantity)}` },
    { key: "amount_minor", label: "Paid", numeric: true, render: (g) => money(g.amount_minor, g.currency) },
    { key: "expires_at", label: "Expires", render: (g) => (g.expired ? "expired" : g.expires_at ? date(g.expires_at) : "never") },
  ];
  return (
    <Panel title="Credits" id="credits" wide loading={credits.loading && !credits.data} error={credits.error}>
      {credits.data && (
        <>
          <p>
            Balance: <strong>{money(credits.data.monetary_balance_minor, credits.data.currency)}</strong>
          </p>
          {credits.data.grants.length === 0 ? (
            <p class="state empty">No prepaid credits.</p>
          ) : (
            <Table caption="Credit grants" columns={columns} rows={credits.data.grants} rowKey={(g) => g.id} />
          )}
        </>
      )}
      {can.write(user) && <GrantCreditsForm customerId={customerId} onDone={credits.reload} />}
    </Panel>
  );
}

function InvoicesAndPayments({ customerId }: { customerId: string }) {
  const path = `/v1/invoices${query({ customer_id: customerId, limit: 20 })}`;
  const invoices = useLoad(() => get<Page<Invoice>>(path), [path]);
  const payments = useLoad(async () => {
    const billed = (invoices.data?.data ?? []).filter((i) => i.id && i.status !== "draft").slice(0, PAYMENTS_SHOWN);
    const found = await Promise.all(billed.map((i) => get<Collection>(`/v1/invoices/${encodeURIComponent(i.id ?? "")}/payment`).catch(() => null)));
    return found.filter((c): c is Collection => c !== null);
  }, [invoices.data]);
  const columns: Column<Collection>[] = [
    { key: "invoice_id", label: "Invoice" },
    { key: "status", label: "Payment", render: (c) => <StatusBadge status={c.status} /> },
    { key: "attempts", label: "Attempts", numeric: true },
    { key: "next_attempt_at", label: "Next attempt", render: (c) => cell("next_attempt_at", c.next_attempt_at) },
    { key: "last_error", label: "Last error", render: (c) => c.last_error ?? "—" },
  ];
  return (
    <>
      <Panel
        title="Invoices"
        id="customer-invoices"
        wide
        loading={invoices.loading && !invoices.data}
        error={invoices.error}
        empty={invoices.data?.data.length === 0 && "No invoices yet."}
        actions={<ExportButton path={`/v1/invoices${query({ customer_id: customerId, limit: 100 })}`} filename={`invoices-${customerId}.csv`} />}
      >
        {invoices.data && <InvoiceTable invoices={invoices.data.data} showCustomer={false} />}
      </Panel>
      <Panel title="Payments" id="payments" wide loading={payments.loading} error={payments.error} empty={payments.data?.length === 0 && "No payment attempts yet."}>
        {payments.data && <Table caption="Payment collection" columns={columns} rows={payments.data} rowKey={(c) => c.invoice_id} />}
      </Panel>
    </>
  );
}

function Health({ customerId }: { customerId: string }) {
  const health = useLoad(() => get<Json>(`/v1/customers/${encodeURIComponent(customerId)}/health`), [customerId]);
  const entries = isObject(health.data) ? Object.entries(health.data).filter(([, v]) => v === null || typeof v !== "object") : [];
  return (
    <Panel title="Health" id="health" loading={health.loading} error={health.error} empty={health.data !== null && entries.length === 0 && "No health score yet."}>
      <dl class="facts">
        {entries.map(([key, value]) => (
          <div key={key}>
            <dt>{label(key)}</dt>
            <dd>{/rate|probability|score_fraction/.test(key) ? percent(value) : cell(key, value)}</dd>
          </div>
        ))}
      </dl>
    </Panel>
  );
}

export function CustomerPage({ customerId, user }: { customerId: string; user: User }) {
  const customer = useLoad(() => get<CustomerOut>(`/v1/customers/${encodeURIComponent(customerId)}`), [customerId]);
  const c = customer.data;
  return (
    <>
      <div class="page-head">
        <h1>{c ? c.name : "Customer"}</h1>
        {c && (
          <p class="muted">
            {c.id} · external id {c.external_id ?? "—"} · {c.email ?? "no email"} · {c.currency} · tax {percent(c.tax_rate)}
          </p>
        )}
      </div>
      {customer.error ? (
        <Panel title="Customer" error={customer.error} />
      ) : customer.loading ? (
        <Panel title="Customer" loading />
      ) : (
        c && (
          <div class="grid">
            <Subscriptions customerId={c.id} user={user} />
            <Usage customerId={c.id} />
            <Health customerId={c.id} />
            <CreditsPanel customerId={c.id} user={user} />
            <InvoicesAndPayments customerId={c.id} />
          </div>
        )
      )}
    </>
  );
}
