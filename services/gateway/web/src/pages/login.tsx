import { useState } from "preact/hooks";
import { ApiError, post, setCsrfToken, type User } from "../api";
import { messageOf } from "../components/ui";

interface Session {
  user: User;
  csrf_token: string;
}

function loginFailure(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401 || error.status === 400) return "Wrong email or password.";
    if (error.status === 429) return "Too many attempts. Wait a moment, then try again.";
    if (error.status === 404 || error.status === 405) return "Signing in is not available on this gateway yet.";
  }
  return messageOf(error);
}

export function Login({ onLogin, notice }: { onLogin: (user: User) => void; notice: string | null }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main class="login" id="main">
      <form
        class="login-card"
        aria-labelledby="login-title"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const session = await post<Session>("/v1/auth/login", { email, password });
            setCsrfToken(session.csrf_token);
            onLogin(session.user);
          } catch (err) {
            setError(loginFailure(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1 id="login-title">Sign in to Tally</h1>
        {notice && <p class="state note">{notice}</p>}
        <label for="email">Email</label>
        <input id="email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
        <label for="password">Password</label>
        <input
          id="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
        />
        {error && (
          <p class="state error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
