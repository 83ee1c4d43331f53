import { useEffect, useState } from "preact/hooks";
import { dateTime, isObject, type Json, type JsonObject, money } from "../format";

/** CloudEvent types the live feed shows (the stream names each event by its type). */
export const FEED_TYPES = [
  "tally.alert.fired",
  "tally.alert.resolved",
  "tally.alert.triggered",
  "tally.payment.succeeded",
  "tally.payment.failed",
  "tally.payment.action_required",
  "tally.payment.refunded",
  "tally.payment.disputed",
  "tally.invoice.paid",
  "tally.invoice.finalized",
  "tally.usage.threshold_reached",
  "tally.subscription.canceled",
];

export interface FeedItem {
  id: string;
  type: string;
  title: string;
  detail: string;
  time: string;
  tone: "bad" | "good" | "info";
}

function tone(type: string, data: JsonObject): FeedItem["tone"] {
  if (/failed|disputed|action_required|fired|triggered|canceled|threshold/.test(type)) return "bad";
  if (/succeeded|paid|resolved/.test(type)) return "good";
  return data.severity === "critical" || data.severity === "warning" ? "bad" : "info";
}

/** One feed line from a CloudEvent, or from an alert row of the dashboard (which is not wrapped in one). */
export function feedItem(raw: Json, fallbackType = "alert"): FeedItem | null {
  if (!isObject(raw)) return null;
  const data = isObject(raw.data) ? raw.data : raw;
  const type = typeof raw.type === "string" ? raw.type : fallbackType;
  const name = type.replace(/^tally\./, "").replace(/[._]/g, " ");
  const customer = data.customer_id ?? raw.subject ?? data.customer;
  const amount = data.amount_minor !== undefined ? money(data.amount_minor, String(data.currency ?? "USD")) : null;
  const text = data.message ?? data.title ?? data.summary ?? data.rule ?? data.reason ?? null;
  const parts = [customer ? `customer ${String(customer)}` : null, amount, text === null ? null : String(text)];
  return {
    id: String(raw.id ?? data.id ?? `${type}-${Math.random()}`),
    type,
    title: name.charAt(0).toUpperCase() + name.slice(1),
    detail: parts.filter(Boolean).join(" · "),
    time: String(raw.time ?? data.occurred_at ?? data.fired_at ?? data.created_at ?? ""),
    tone: tone(type, data),
  };
}

const MAX_ITEMS = 50;

/** Alerts from the dashboard, then every alert and payment event the stream sends while the page is open. */
export function AlertsFeed({ initial }: { initial: JsonObject[] }) {
  const [items, setItems] = useState<FeedItem[]>(() => initial.map((a) => feedItem(a)).filter((i): i is FeedItem => i !== null));
  const [live, setLive] = useState<"connecting" | "live" | "down">("connecting");
  useEffect(() => {
    if (typeof EventSource === "undefined") return setLive("down");
    const source = new EventSource("/v1/stream", { withCredentials: true });
    const receive = (event: MessageEvent<string>) => {
      let parsed: Json;
      try {
        parsed = JSON.parse(event.data) as Json;
      } catch {
        return;
      }
      const item = feedItem(parsed, event.type === "message" ? "event" : event.type);
      if (item) setItems((old) => [item, ...old.filter((o) => o.id !== item.id)].slice(0, MAX_ITEMS));
    };
    source.onopen = () => setLive("live");
    source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? "down" : "connecting");
    source.onmessage = receive;
    for (const type of FEED_TYPES) source.addEventListener(type, receive as EventListener);
    return () => source.close();
  }, []);
  return (
    <div class="feed">
      <p class={`live live-${live}`} role="status" data-live={live}>
        {live === "live" ? "● Live" : live === "connecting" ? "Connecting to the live stream…" : "Live updates unavailable"}
      </p>
      {items.length === 0 ? (
        <p class="state empty">No alerts or payment events yet.</p>
      ) : (
        <ol class="feed-list" aria-live="polite">
          {items.map((item) => (
            <li key={item.id} class={`feed-item tone-${item.tone}`} data-type={item.type}>
              <span class="feed-title">{item.title}</span>
              <span class="feed-detail">{item.detail}</span>
              <time dateTime={item.time}>{dateTime(item.time)}</time>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
