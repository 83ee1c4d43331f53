import type { ComponentChildren } from "preact";
import { cell, currencyOf, type Json, type JsonObject, label, toNumber } from "../format";

export interface Column<T> {
  key: string;
  label: string;
  render?: (row: T) => ComponentChildren;
  numeric?: boolean;
}

interface TableProps<T> {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T, index: number) => string;
}

export function Table<T>({ caption, columns, rows, rowKey }: TableProps<T>) {
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" class={c.numeric ? "num" : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={rowKey(row, index)}>
              {columns.map((c) => (
                <td key={c.key} class={c.numeric ? "num" : undefined}>
                  {c.render ? c.render(row) : cell(c.key, (row as JsonObject)[c.key] as Json)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const MAX_AUTO_COLUMNS = 7;

/** Columns for rows whose shape we do not know in advance: the scalar fields of the first rows. */
export function autoColumns(rows: JsonObject[], payload?: unknown): Column<JsonObject>[] {
  const keys: string[] = [];
  for (const row of rows.slice(0, 5)) {
    for (const [key, value] of Object.entries(row)) {
      if (!keys.includes(key) && (value === null || typeof value !== "object") && key !== "currency") keys.push(key);
    }
  }
  return keys.slice(0, MAX_AUTO_COLUMNS).map((key) => ({
    key,
    label: label(key),
    numeric: rows.some((r) => typeof r[key] === "number" || (key.endsWith("_minor") && toNumber(r[key]) !== null)),
    render: (row: JsonObject) => cell(key, row[key], typeof row.currency === "string" ? row.currency : currencyOf(payload)),
  }));
}
