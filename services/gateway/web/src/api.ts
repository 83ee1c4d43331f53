// Every call to the gateway: same-origin, cookie session, CSRF header on writes, problem+json errors.

export type Role = "viewer" | "analyst" | "admin";
export interface User {
  id: string;
  email: string;
  role: Role;
}
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
export interface FieldError {
  field: string;
  reason: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

async function problem(response: Response): Promise<ApiError> {
  let detail = `${response.status} ${response.statusText}`.trim();
  let errors: FieldError[] = [];
  try {
    const body = await response.json();
    if (body && typeof body === "object") {
      detail = String(body.detail ?? body.title ?? detail);
      if (Array.isArray(body.errors)) errors = body.errors;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, detail, errors);
}

export async function request(method: string, path: string, body?: unknown, accept = "application/json"): Promise<Response> {
  const headers: Record<string, string> = { Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "The gateway did not answer. Check your connection and try again.");
  }
  if (!response.ok) {
    const error = await problem(response);
    if (response.status === 401 && !path.startsWith("/v1/auth/")) onUnauthorized();
    throw error;
  }
  return response;
}

export async function get<T>(path: string): Promise<T> {
  return (await request("GET", path)).json() as Promise<T>;
}

export async function post<T>(path: string, body?: unknown): Promise<T> {
  const response = await request("POST", path, body ?? {});
  return (response.status === 204 ? null : await response.json()) as T;
}

export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Fetches a table as CSV (`Accept: text/csv`) and hands it to the browser as a download. */
export async function downloadCsv(path: string, filename: string): Promise<void> {
  const response = await request("GET", path, undefined, "text/csv");
  if (!(response.headers.get("Content-Type") ?? "").startsWith("text/csv")) {
    throw new ApiError(response.status, "This table cannot be exported as CSV yet.");
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** What the interface offers each role (the gateway enforces the same rules on every call). */
export const can = {
  write: (user: User | null) => user?.role === "admin",
};
