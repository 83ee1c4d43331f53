"""PostgreSQL URL helpers: one place that takes URLs apart and puts them back together."""

from urllib.parse import quote, urlsplit, urlunsplit

ASYNCPG_SCHEME = "postgresql+asyncpg"


def libpq_url(url: str) -> str:
    """`postgresql+asyncpg://...` (SQLAlchemy style) -> `postgresql://...` (what libpq and asyncpg take)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {redact(url)}")
    return urlunsplit(parts._replace(scheme="postgresql"))


def with_database(url: str, database: str) -> str:
    """The same server and credentials, another database."""
    return urlunsplit(urlsplit(url)._replace(path="/" + quote(database, safe="")))


def with_credentials(url: str, user: str, password: str, *, scheme: str | None = None) -> str:
    """The same server and database, logging in as `user`; optionally another scheme (driver)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(scheme=scheme or parts.scheme, netloc=netloc))


def redact(url: str) -> str:
    """The URL with its password replaced by `***`, fit for printing."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
