import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post, setCsrfToken, type User, whenUnauthorized } from "./api";
import { Link } from "./components/ui";
import { CustomerPage } from "./pages/customer";
import { Customers } from "./pages/customers";
import { Invoices } from "./pages/invoices";
import { Login } from "./pages/login";
import { Overview } from "./pages/overview";
import { Plans } from "./pages/plans";
import { navigate, usePath } from "./router";
import "./styles.css";

const NAV = [
  { href: "/", label: "Overview" },
  { href: "/customers", label: "Customers" },
  { href: "/invoices", label: "Invoices" },
  { href: "/plans", label: "Plans" },
];

function Page({ path, user }: { path: string; user: User }) {
  const customer = /^\/customers\/([^/]+)$/.exec(path);
  if (customer) return <CustomerPage customerId={decodeURIComponent(customer[1])} user={user} />;
  if (path === "/customers") return <Customers />;
  if (path === "/invoices") return <Invoices />;
  if (path === "/plans") return <Plans user={user} />;
  if (path === "/" || path === "/login") return <Overview />;
  return (
    <div class="page-head">
      <h1>Not found</h1>
      <p>
        No page at this address. <Link href="/">Back to the overview</Link>
      </p>
    </div>
  );
}

function Shell({ user, onLogout }: { user: User; onLogout: () => void }) {
  const path = usePath();
  const section = "/" + (path.split("/")[1] ?? "");
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Tally</span>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <Link key={n.href} href={n.href} class={section === n.href ? "active" : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <span class="who">
          <span data-testid="user">{user.email}</span> <span class="badge">{user.role}</span>
          <button type="button" class="secondary" onClick={onLogout}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} user={user} />
      </main>
    </>
  );
}

interface Me {
  user: User;
  csrf_token: string;
}

function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    whenUnauthorized(() => {
      setCsrfToken(null);
      setNotice("Your session ended. Sign in again.");
      setUser(null);
    });
    get<Me>("/v1/auth/me").then(
      (me) => {
        setCsrfToken(me.csrf_token);
        setUser(me.user);
      },
      (error: unknown) => {
        if (!(error instanceof ApiError) || error.status !== 401) setNotice(`Could not check your session: ${error instanceof Error ? error.message : String(error)}`);
        setUser(null);
      },
    );
  }, []);
  if (user === undefined) return <p class="state loading boot" role="status">Loading…</p>;
  if (user === null) {
    return (
      <Login
        notice={notice}
        onLogin={(u) => {
          setNotice(null);
          setUser(u);
          if (location.pathname === "/login") navigate("/", true);
        }}
      />
    );
  }
  return (
    <Shell
      user={user}
      onLogout={async () => {
        await post("/v1/auth/logout").catch(() => undefined);
        setCsrfToken(null);
        setUser(null);
      }}
    />
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
