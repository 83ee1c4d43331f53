import { useState } from "preact/hooks";
import { get, type Page, post } from "../api";
import { FormErrors, useLoad } from "./ui";

export interface PlanRef {
  key: string;
  version: number;
}
export interface Plan extends PlanRef {
  id: string;
  name: string;
  currency: string;
  interval: string;
  base_price_minor: number;
  trial_days: number;
  entitlements: Record<string, number | boolean>;
  created_at: string;
}
export interface Subscription {
  id: string;
  customer_id: string;
  plan: PlanRef;
  scheduled_plan: PlanRef | null;
  status: string;
  currency: string;
  current_period_start: string;
  current_period_end: string;
  cancel_at_period_end: boolean;
}

/** Every plan (the catalog is small: pages of 100 until the end). */
export async function allPlans(): Promise<Plan[]> {
  const plans: Plan[] = [];
  let after: string | null = "";
  while (after !== null) {
    const page: Page<Plan> = await get<Page<Plan>>(`/v1/plans?limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    plans.push(...page.data);
    after = page.next_cursor;
  }
  return plans;
}

/** Moves a subscription to another plan of its currency; billing decides between now (dearer) and period end. */
export function ChangePlanForm({ subscription, onDone }: { subscription: Subscription; onDone: (s: Subscription) => void }) {
  const plans = useLoad(allPlans, []);
  const choices = (plans.data ?? []).filter((p) => p.currency === subscription.currency && p.key !== subscription.plan.key);
  const [planKey, setPlanKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const id = `change-plan-${subscription.id}`;
  return (
    <form
      class="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          onDone(await post<Subscription>(`/v1/subscriptions/${encodeURIComponent(subscription.id)}/change-plan`, { plan_key: planKey }));
          setPlanKey("");
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label for={id}>Change plan</label>
      <select id={id} value={planKey} required onChange={(e) => setPlanKey((e.target as HTMLSelectElement).value)}>
        <option value="" disabled>
          {plans.loading ? "Loading plans…" : "Choose a plan"}
        </option>
        {choices.map((p) => (
          <option key={p.key} value={p.key}>
            {p.name} ({p.key})
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy || !planKey}>
        {busy ? "Changing…" : "Change"}
      </button>
      {plans.error && <span class="inline-error">{plans.error}</span>}
      <FormErrors error={error} />
    </form>
  );
}

interface Meter {
  key: string;
}

/** Prepaid units for one meter, with the price paid per unit (minor units, decimal string). */
export function GrantCreditsForm({ customerId, onDone }: { customerId: string; onDone: () => void }) {
  const meters = useLoad(() => get<Page<Meter>>("/v1/meters?limit=100"), []);
  const [form, setForm] = useState({ credit_type: "", meter: "", quantity: "", unit_cost_minor: "0", expires_at: "", description: "" });
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  return (
    <form
      class="stack-form"
      aria-label="Grant credits"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        setDone(null);
        const body: Record<string, string> = { credit_type: form.credit_type, meter: form.meter, quantity: form.quantity, unit_cost_minor: form.unit_cost_minor };
        if (form.expires_at) body.expires_at = new Date(`${form.expires_at}T00:00:00Z`).toISOString();
        if (form.description) body.description = form.description;
        try {
          const grant = await post<{ id: string }>(`/v1/customers/${encodeURIComponent(customerId)}/credit-grants`, body);
          setDone(`Granted (${grant.id}).`);
          setForm({ ...form, quantity: "", description: "" });
          onDone();
        } catch (err) {
          setError(err);
        }
      }}
    >
      <h3>Grant credits</h3>
      <label>
        Credit type <input required pattern="[a-z][a-z0-9_]*" value={form.credit_type} onInput={set("credit_type")} placeholder="sms_campaigns" />
      </label>
      <label>
        Meter
        <select required value={form.meter} onChange={set("meter")}>
          <option value="" disabled>
            {meters.loading ? "Loading meters…" : "Choose a meter"}
          </option>
          {(meters.data?.data ?? []).map((m) => (
            <option key={m.key} value={m.key}>
              {m.key}
            </option>
          ))}
        </select>
      </label>
      <label>
        Units granted <input required inputMode="decimal" pattern="[0-9]+(\.[0-9]+)?" value={form.quantity} onInput={set("quantity")} />
      </label>
      <label>
        Unit cost (minor units) <input required inputMode="decimal" pattern="[0-9]+(\.[0-9]+)?" value={form.unit_cost_minor} onInput={set("unit_cost_minor")} />
      </label>
      <label>
        Expires (optional) <input type="date" value={form.expires_at} onInput={set("expires_at")} />
      </label>
      <label>
        Note (optional) <input maxLength={500} value={form.description} onInput={set("description")} />
      </label>
      <button type="submit">Grant</button>
      {done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
      <FormErrors error={error} />
    </form>
  );
}
