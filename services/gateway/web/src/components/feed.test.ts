import { describe, expect, it } from "vitest";
import { feedItem } from "./feed";

describe("feed lines", () => {
  it("describes a payment CloudEvent", () => {
    const event = {
      id: "evt_1",
      type: "tally.payment.failed",
      subject: "cus_1",
      time: "2026-12-01T00:10:00Z",
      data: { customer_id: "cus_1", amount_minor: 13320, currency: "USD", reason: "card_declined" },
    };
    const item = feedItem(event);
    expect(item).toMatchObject({ id: "evt_1", type: "tally.payment.failed", title: "Payment failed", tone: "bad" });
    expect(item?.detail).toContain("customer cus_1");
    expect(item?.detail).toContain("card_declined");
  });

  it("describes an alert row of the dashboard", () => {
    const item = feedItem({ id: "al_1", message: "MRR fell 12%", fired_at: "2026-11-21T10:00:00Z" });
    expect(item).toMatchObject({ id: "al_1", title: "Alert", detail: "MRR fell 12%", time: "2026-11-21T10:00:00Z" });
  });

  it("skips what is not an object", () => {
    expect(feedItem("nope")).toBeNull();
    expect(feedItem(null)).toBeNull();
  });
});
