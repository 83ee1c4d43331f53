import { useState } from "preact/hooks";
import { query } from "../api";
import { type Column, Table } from "../components/table";
import { ExportButton, Link, MoreButton, Panel, usePaged } from "../components/ui";
import { date } from "../format";
import { navigate, searchParam } from "../router";

export interface Customer {
  id: string;
  external_id: string | null;
  name: string;
  email: string | null;
  currency: string;
  tax_rate: string;
  created_at: string;
}

const COLUMNS: Column<Customer>[] = [
  { key: "name", label: "Name", render: (c) => <Link href={`/customers/${encodeURIComponent(c.id)}`}>{c.name}</Link> },
  { key: "external_id", label: "External id", render: (c) => c.external_id ?? "—" },
  { key: "email", label: "Email", render: (c) => c.email ?? "—" },
  { key: "currency", label: "Currency" },
  { key: "created_at", label: "Since", render: (c) => date(c.created_at) },
];

export function Customers() {
  const [search, setSearch] = useState(searchParam("search"));
  const [typed, setTyped] = useState(search);
  const customers = usePaged<Customer>(`/v1/customers${query({ search, limit: 50 })}`);
  return (
    <>
      <div class="page-head">
        <h1>Customers</h1>
      </div>
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(typed.trim());
          navigate(`/customers${query({ search: typed.trim() })}`, true);
        }}
      >
        <label for="customer-search">Search by name, email or external id</label>
        <input id="customer-search" type="search" value={typed} maxLength={200} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      <Panel
        title={search ? `Customers matching “${search}”` : "All customers"}
        id="customers"
        wide
        loading={customers.loading && !customers.data}
        error={customers.error}
        empty={customers.data?.length === 0 && (search ? "No customer matches." : "No customers yet.")}
        actions={<ExportButton path={`/v1/customers${query({ search, limit: 100 })}`} filename="customers.csv" />}
      >
        {customers.data && <Table caption="Customers" columns={COLUMNS} rows={customers.data} rowKey={(c) => c.id} />}
        <MoreButton paged={customers} />
      </Panel>
    </>
  );
}
