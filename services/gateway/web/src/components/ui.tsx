import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, downloadCsv, get, type Page } from "../api";
import { navigate } from "../router";

export interface Loaded<T> {
  loading: boolean;
  data: T | null;
  error: string | null;
  reload: () => void;
}

/** Runs `load` when `deps` change; a newer load wins over an older one still in flight. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ loading: boolean; data: T | null; error: string | null }>({
    loading: true,
    data: null,
    error: null,
  });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => current && setState({ loading: false, data, error: null }),
      (error: unknown) => current && setState({ loading: false, data: null, error: messageOf(error) }),
    );
    return () => {
      current = false;
    };
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 404) return `Not available on this gateway yet (${error.message}).`;
    if (error.status === 403) return "Your role does not allow this.";
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

interface PanelProps {
  title: string;
  id?: string;
  loading?: boolean;
  error?: string | null;
  empty?: string | false;
  actions?: ComponentChildren;
  wide?: boolean;
  children?: ComponentChildren;
}

/** A titled card with one of four states: loading, error (with the reason), empty, or its content. */
export function Panel({ title, id, loading, error, empty, actions, wide, children }: PanelProps) {
  const headingId = id ? `${id}-title` : undefined;
  let body: ComponentChildren = children;
  let state = "ok";
  if (loading) {
    state = "loading";
    body = <p class="state loading" role="status">Loading…</p>;
  } else if (error) {
    state = "error";
    body = <p class="state error" role="alert">{error}</p>;
  } else if (empty) {
    state = "empty";
    body = <p class="state empty">{empty}</p>;
  }
  return (
    <section class={wide ? "panel wide" : "panel"} id={id} aria-labelledby={headingId} data-state={state} aria-busy={loading ? "true" : "false"}>
      <header class="panel-head">
        <h2 id={headingId}>{title}</h2>
        {actions && <div class="panel-actions">{actions}</div>}
      </header>
      {body}
    </section>
  );
}

export function Link({ href, children, class: className }: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a
      href={href}
      class={className}
      onClick={(event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

export function ExportButton({ path, filename }: { path: string; filename: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span class="export">
      <button
        type="button"
        class="secondary"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await downloadCsv(path, filename);
          } catch (e) {
            setError(messageOf(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? "Exporting…" : "Export CSV"}
      </button>
      {error && <span class="inline-error" role="alert">{error}</span>}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status.replace(/[^a-z_]/g, "")}`}>{status.replace(/_/g, " ")}</span>;
}

/** The errors of a 422, one per field, next to the form that caused them. */
export function FormErrors({ error }: { error: unknown }) {
  if (!error) return null;
  const fields = error instanceof ApiError ? error.errors : [];
  return (
    <div class="form-errors" role="alert">
      <p>{messageOf(error)}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={f.field}>
              <code>{f.field}</code>: {f.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export interface Paged<T> extends Loaded<T[]> {
  next: string | null;
  more: () => void;
}

/** A cursor-paged list: the first page when `path` changes, the next ones appended on `more()`. */
export function usePaged<T>(path: string): Paged<T> {
  const [extra, setExtra] = useState<{ rows: T[]; next: string | null; error: string | null; busy: boolean }>({
    rows: [],
    next: null,
    error: null,
    busy: false,
  });
  const first = useLoad(async () => {
    const page = await get<Page<T>>(path);
    setExtra({ rows: [], next: page.next_cursor, error: null, busy: false });
    return page.data;
  }, [path]);
  const more = async () => {
    if (!extra.next) return;
    setExtra((s) => ({ ...s, busy: true }));
    try {
      const page = await get<Page<T>>(`${path}${path.includes("?") ? "&" : "?"}after=${encodeURIComponent(extra.next)}`);
      setExtra((s) => ({ rows: [...s.rows, ...page.data], next: page.next_cursor, error: null, busy: false }));
    } catch (e) {
      setExtra((s) => ({ ...s, error: messageOf(e), busy: false }));
    }
  };
  const data = first.data === null ? null : [...first.data, ...extra.rows];
  return { ...first, data, error: first.error ?? extra.error, loading: first.loading || extra.busy, next: extra.next, more };
}

export function MoreButton<T>({ paged }: { paged: Paged<T> }) {
  if (!paged.next) return null;
  return (
    <button type="button" class="secondary more" onClick={paged.more} disabled={paged.loading}>
      Load more
    </button>
  );
}
