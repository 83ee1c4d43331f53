"""Pure: the billing projections of a whole topic, folded in memory fact by fact in arrival order, by the live
consumer's rules (`service.apply_events`): each event once (the first copy), a customer's newest state by
`updated_at` (its earliest `created_at` kept), an invoice's latest status by `changed_at` (the rest, and its lines,
as first seen), revenue from the lines of the invoices that count, and MRR derived from the whole change log."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from analytics.projections.facts import Fact, Row
from analytics.projections.segments import Change, MonthMove, Policy, Segment, month_moves, month_of, segments_of

_CREATED, _UPDATED = 6, 7  # customer row
_STATUS, _CURRENCY, _CHANGED = 4, 5, 13  # invoice row
_KIND, _AMOUNT, _LINE_START = 2, 5, 6  # line row


@dataclass
class Derived:
    segments: list[Segment]
    moves: list[MonthMove]
    revenue: list[Row]  # (currency, month, kind, amount_minor)


@dataclass
class Folded:
    applied: list[str] = field(default_factory=list)
    customers: dict[str, Row] = field(default_factory=dict)
    changes: list[Row] = field(default_factory=list)
    invoices: dict[str, Row] = field(default_factory=dict)
    lines: dict[str, tuple[Row, ...]] = field(default_factory=dict)
    payments: list[Row] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def add(self, fact: Fact) -> bool:
        """False when the event was applied already."""
        table, event_id, row, lines = fact
        if event_id in self._seen:
            return False
        self._seen.add(event_id)
        self.applied.append(event_id)
        if table == "invoices":  # the commonest first
            self._invoice(row, lines)
        elif table == "payments":
            self.payments.append(row)
        elif table == "subscription_changes":
            self.changes.append(row)
        else:
            self._customer(row)
        return True

    def _customer(self, row: Row) -> None:
        before = self.customers.get(row[0])
        if before is not None:
            newest = row if before[_UPDATED] <= row[_UPDATED] else before
            row = (*newest[:_CREATED], min(before[_CREATED], row[_CREATED]), newest[_UPDATED])
        self.customers[row[0]] = row

    def _invoice(self, row: Row, lines: tuple[Row, ...]) -> None:
        invoice_id = row[0]
        before = self.invoices.get(invoice_id)
        if before is None:
            self.invoices[invoice_id] = row
            self.lines[invoice_id] = lines
        elif before[_CHANGED] <= row[_CHANGED]:
            self.invoices[invoice_id] = (
                *before[:_STATUS],
                row[_STATUS],
                *before[_STATUS + 1 : _CHANGED],
                row[_CHANGED],
            )

    def unseen(self, event_ids: set[str]) -> set[str]:
        return event_ids - self._seen

    def line_rows(self) -> Iterator[Row]:
        for lines in self.lines.values():
            yield from lines

    def derive(self, policy: Policy) -> Derived:
        segments = segments_of((_change(row) for row in self.changes), policy)
        by_customer: dict[str, list[Segment]] = {}
        for segment in segments:
            by_customer.setdefault(segment.customer_id, []).append(segment)
        moves = [m for cid, segs in by_customer.items() for m in month_moves(cid, segs[0].currency, segs)]
        return Derived(segments, moves, self._revenue())

    def _revenue(self) -> list[Row]:
        """Per currency, month and kind, the lines of the invoices that count (all but void ones); a zero total is
        no row (the live consumer may keep one at zero: the same answers)."""
        amounts: dict[tuple[str, date, str], int] = {}
        for invoice_id, invoice in self.invoices.items():
            if invoice[_STATUS] != "void":
                for line in self.lines[invoice_id]:
                    key = (invoice[_CURRENCY], month_of(line[_LINE_START]), line[_KIND])
                    amounts[key] = amounts.get(key, 0) + line[_AMOUNT]
        return [(*key, amount) for key, amount in amounts.items() if amount]


def _change(row: Row) -> Change:
    """subscription_changes columns -> the change log's fields (facts.CHANGE_COLUMNS)."""
    return Change(row[0], row[1], row[2], row[3], row[5], row[7], row[9], row[11], row[12], row[16], row[17])
