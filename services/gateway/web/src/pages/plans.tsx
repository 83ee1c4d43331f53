import { useState } from "preact/hooks";
import { can, post, type User } from "../api";
import { allPlans, ChangePlanForm, type Plan, type Subscription } from "../components/forms";
import { type Column, Table } from "../components/table";
import { ExportButton, FormErrors, Link, MoreButton, Panel, StatusBadge, useLoad, usePaged } from "../components/ui";
import { date, money } from "../format";
import { parseEntitlements } from "../shapes";

const PLAN_COLUMNS: Column<Plan>[] = [
  { key: "name", label: "Plan", render: (p) => `${p.name} (${p.key} v${p.version})` },
  { key: "interval", label: "Interval" },
  { key: "base_price_minor", label: "Price", numeric: true, render: (p) => money(p.base_price_minor, p.currency) },
  { key: "trial_days", label: "Trial days", numeric: true },
  {
    key: "entitlements",
    label: "Limits and features",
    render: (p) =>
      Object.entries(p.entitlements)
        .map(([k, v]) => (typeof v === "boolean" ? `${k}${v ? "" : " (off)"}` : `${k} ≤ ${v}`))
        .join(", ") || "—",
  },
];

function CreatePlanForm({ onDone }: { onDone: () => void }) {
  const empty = { key: "", name: "", currency: "USD", interval: "month", base_price_minor: "", trial_days: "0", entitlements: "", charges: "[]" };
  const [form, setForm] = useState(empty);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const set = (key: keyof typeof empty) => (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  return (
    <form
      class="stack-form"
      aria-label="Create a plan"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        setDone(null);
        try {
          let charges: unknown;
          try {
            charges = JSON.parse(form.charges || "[]");
          } catch {
            throw new Error("Charges must be a JSON list, e.g. []");
          }
          const plan = await post<Plan>("/v1/plans", {
            key: form.key,
            name: form.name,
            currency: form.currency.toUpperCase(),
            interval: form.interval,
            base_price_minor: Number(form.base_price_minor),
            trial_days: Number(form.trial_days),
            entitlements: parseEntitlements(form.entitlements),
            charges,
          });
          setDone(`Created ${plan.name} (${plan.key} v${plan.version}).`);
          setForm(empty);
          onDone();
        } catch (err) {
          setError(err);
        }
      }}
    >
      <h3>Create a plan</h3>
      <label>
        Key <input required pattern="[a-z][a-z0-9_]*" maxLength={100} value={form.key} onInput={set("key")} placeholder="team" />
      </label>
      <label>
        Name <input required maxLength={200} value={form.name} onInput={set("name")} placeholder="Team" />
      </label>
      <label>
        Currency <input required pattern="[A-Za-z]{3}" maxLength={3} value={form.currency} onInput={set("currency")} />
      </label>
      <label>
        Interval
        <select value={form.interval} onChange={set("interval")}>
          <option value="month">month</option>
          <option value="year">year</option>
        </select>
      </label>
      <label>
        Price per interval (minor units) <input required type="number" min={0} step={1} value={form.base_price_minor} onInput={set("base_price_minor")} />
      </label>
      <label>
        Trial days <input type="number" min={0} max={730} value={form.trial_days} onInput={set("trial_days")} />
      </label>
      <label>
        <span>
          Limits and features, one per line (<code>ai_requests=1000</code>, <code>sso=true</code>)
        </span>
        <textarea rows={3} value={form.entitlements} onInput={set("entitlements")} />
      </label>
      <label>
        Charges (JSON, see the README's Plans)
        <textarea rows={3} value={form.charges} onInput={set("charges")} spellcheck={false} />
      </label>
      <button type="submit">Create plan</button>
      {done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
      <FormErrors error={error} />
    </form>
  );
}

function SubscriptionsPanel({ user }: { user: User }) {
  const subs = usePaged<Subscription>("/v1/subscriptions?limit=50");
  const [open, setOpen] = useState<string | null>(null);
  const columns: Column<Subscription>[] = [
    { key: "customer_id", label: "Customer", render: (s) => <Link href={`/customers/${encodeURIComponent(s.customer_id)}`}>{s.customer_id}</Link> },
    { key: "plan", label: "Plan", render: (s) => `${s.plan.key} v${s.plan.version}${s.scheduled_plan ? ` → ${s.scheduled_plan.key}` : ""}` },
    { key: "status", label: "Status", render: (s) => <StatusBadge status={s.status} /> },
    { key: "current_period_end", label: "Renews", render: (s) => date(s.current_period_end) },
    ...(can.write(user)
      ? [
          {
            key: "actions",
            label: "Actions",
            render: (s: Subscription) =>
              open === s.id ? (
                <ChangePlanForm subscription={s} onDone={() => (setOpen(null), subs.reload())} />
              ) : (
                <button type="button" class="secondary" onClick={() => setOpen(s.id)} aria-label={`Change the plan of ${s.customer_id}`}>
                  Change plan
                </button>
              ),
          },
        ]
      : []),
  ];
  return (
    <Panel
      title="Subscriptions"
      id="all-subscriptions"
      wide
      loading={subs.loading && !subs.data}
      error={subs.error}
      empty={subs.data?.length === 0 && "No subscriptions."}
      actions={<ExportButton path="/v1/subscriptions?limit=100" filename="subscriptions.csv" />}
    >
      {subs.data && <Table caption="Subscriptions" columns={columns} rows={subs.data} rowKey={(s) => s.id} />}
      <MoreButton paged={subs} />
    </Panel>
  );
}

export function Plans({ user }: { user: User }) {
  const plans = useLoad(allPlans, []);
  return (
    <>
      <div class="page-head">
        <h1>Plans and subscriptions</h1>
      </div>
      <div class="grid">
        <Panel title="Plans" id="plans" wide loading={plans.loading && !plans.data} error={plans.error} empty={plans.data?.length === 0 && "No plans yet."} actions={<ExportButton path="/v1/plans?limit=100" filename="plans.csv" />}>
          {plans.data && <Table caption="Plans" columns={PLAN_COLUMNS} rows={plans.data} rowKey={(p) => p.key} />}
          {can.write(user) && <CreatePlanForm onDone={plans.reload} />}
        </Panel>
        <SubscriptionsPanel user={user} />
      </div>
    </>
  );
}
