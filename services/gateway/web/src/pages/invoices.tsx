import { useState } from "preact/hooks";
import { query } from "../api";
import { type Column, Table } from "../components/table";
import { ExportButton, Link, MoreButton, Panel, StatusBadge, usePaged } from "../components/ui";
import { date, money } from "../format";

export interface Invoice {
  id: string | null;
  number: string | null;
  customer_id: string;
  subscription_id: string | null;
  status: string;
  currency: string;
  period_start: string;
  period_end: string;
  total_minor: number;
  created_at: string | null;
}

const STATUSES = ["", "draft", "finalized", "paid", "void", "uncollectible"];

export function InvoiceTable({ invoices, showCustomer = true }: { invoices: Invoice[]; showCustomer?: boolean }) {
  const columns: Column<Invoice>[] = [
    { key: "number", label: "Number", render: (i) => i.number ?? i.id ?? "—" },
    ...(showCustomer
      ? [{ key: "customer_id", label: "Customer", render: (i: Invoice) => <Link href={`/customers/${encodeURIComponent(i.customer_id)}`}>{i.customer_id}</Link> }]
      : []),
    { key: "status", label: "Status", render: (i) => <StatusBadge status={i.status} /> },
    { key: "period", label: "Period", render: (i) => `${date(i.period_start)} – ${date(i.period_end)}` },
    { key: "total_minor", label: "Total", numeric: true, render: (i) => money(i.total_minor, i.currency) },
  ];
  return <Table caption="Invoices" columns={columns} rows={invoices} rowKey={(i, n) => i.id ?? String(n)} />;
}

export function Invoices() {
  const [status, setStatus] = useState("");
  const invoices = usePaged<Invoice>(`/v1/invoices${query({ status, limit: 50 })}`);
  return (
    <>
      <div class="page-head">
        <h1>Invoices</h1>
      </div>
      <Panel
        title="All invoices"
        id="invoices"
        wide
        loading={invoices.loading && !invoices.data}
        error={invoices.error}
        empty={invoices.data?.length === 0 && "No invoices match."}
        actions={
          <>
            <label class="inline">
              Status{" "}
              <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s || "any"}
                  </option>
                ))}
              </select>
            </label>
            <ExportButton path={`/v1/invoices${query({ status, limit: 100 })}`} filename="invoices.csv" />
          </>
        }
      >
        {invoices.data && <InvoiceTable invoices={invoices.data} />}
        <MoreButton paged={invoices} />
      </Panel>
    </>
  );
}
