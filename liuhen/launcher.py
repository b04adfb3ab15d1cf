"""`liuhen up`: migrate, load the district directories (deploy/districts/), then run
the relay and every service until Ctrl-C.

Each service is its own `nameko run` process (one HTTP server per process: see
ARCHITECTURE.md); the relay is a plain process. A child that dies takes the platform
down with a message, rather than leaving half of it running unnoticed.
"""

import getpass
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from eventlog import digests, migrate
from eventlog.store import EventStore
from liuhen.demo import DEMO_DISTRICT, DEMO_UNIT, demo_tokens
from services.directory.load import DirectoryError, parse_files, record_files

ROOT = Path(__file__).resolve().parent.parent
NAMEKO_CONFIG = ROOT / "deploy" / "nameko.yml"
DISTRICTS = ROOT / "deploy" / "districts"
TOKENS = ROOT / ".liuhen" / "demo-tokens.json"
DIGEST_KEY = ROOT / ".liuhen" / "digest-key.pem"
PII_KEY = ROOT / ".liuhen" / "pii-key"


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def services(root: Path = ROOT) -> list[str]:
    return sorted(p.parent.name for p in (root / "services").glob("*/service.py"))


def commands() -> dict[str, list[str]]:
    procs = {"relay": [sys.executable, "-m", "liuhen", "relay"]}
    for name in services():
        procs[name] = [
            sys.executable,
            "-m",
            "nameko",
            "run",
            "--config",
            str(NAMEKO_CONFIG),
            f"services.{name}.service",
        ]
    return procs


def child_env(cfg, environ=None) -> dict[str, str]:
    """The environment of every child: the application role's conninfo only.

    LIUHEN_DATABASE_URL names the migrating (superuser) role; a service or relay
    that inherited it could bypass every guard, so children get the application
    role's conninfo in its place, from which settings.load() derives the same.
    PGPASSWORD is the admin's too, if anyone's, and goes.
    """
    env = dict(os.environ if environ is None else environ)
    env["LIUHEN_DATABASE_URL"] = cfg.app_conninfo
    env["LIUHEN_DB_APP_USER"] = cfg.app_user
    env.pop("PGPASSWORD", None)
    # nameko 2.14 runs on eventlet, which announces its deprecation at every start.
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    env.pop("LIUHEN_DB_APP_PASSWORD", None)
    if cfg.app_password:
        env["LIUHEN_DB_APP_PASSWORD"] = cfg.app_password
    return env


def digest_key(cfg, path: Path = DIGEST_KEY) -> str:
    """The signing key of the log's digests: the operator's (LIUHEN_DIGEST_KEY), or
    for the local platform one made once in .liuhen/ (a real deployment keeps its
    key away from the database's administrators)."""
    if cfg.digest_key:
        return cfg.digest_key
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        digests.new_key(path)
    return str(path)


def pii_key(environ, path: Path = PII_KEY) -> str:
    """The master key of complainants' identities: the operator's (LIUHEN_PII_KEY),
    or for the local platform one made once in .liuhen/ (0600). A real deployment
    keeps it in its secrets: whoever loses it loses every identity."""
    if environ.get("LIUHEN_PII_KEY"):
        return environ["LIUHEN_PII_KEY"]
    if not path.exists():
        from services.complaints.pii import new_master_key

        path.parent.mkdir(exist_ok=True)
        try:  # created once, never overwritten: a new key would lose every identity
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(new_master_key() + "\n")
    return path.read_text().strip()


def load_districts(conninfo: str, folder: Path = DISTRICTS) -> Iterator[str]:
    """Record every district file of `folder` (the demo districts): one line each.
    Raises DirectoryError, before recording anything, if any file is bad."""
    parsed = parse_files(sorted(folder.glob("*.yml")))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        yield from record_files(EventStore(conn), parsed, f"launcher:{_user()}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without a name (containers)
        return str(os.getuid())


def banner(http: str, children: list[str], tokens: dict[str, str]) -> str:
    lines = [
        f"\n留痕 is up: http://{http}/v1/health  ({', '.join(children)}); "
        "Ctrl-C stops it.",
        f"  API http://{http}/v1/complaints   OpenAPI http://{http}/v1/openapi.json",
        f"  Open311 http://{http}/open311/v2/services.json?jurisdiction_id="
        f"{DEMO_DISTRICT}",
        f"Bearer tokens for the demo district {DEMO_DISTRICT} "
        f"(kept in {TOKENS.relative_to(ROOT)}):",
    ]
    for role, token in tokens.items():
        note = f"  (unit {DEMO_UNIT})" if role == "unit_handler" else ""
        if role == "city":  # services/gateway/auth.py: acting_in
            note = "  (any district: send X-Liuhen-District: <district>)"
        lines.append(f"  {role:<16}{token}{note}")
    lines.append(
        f'Try: curl -H "Authorization: Bearer {tokens["intake"]}" '
        f"http://{http}/v1/complaints\n"
    )
    return "\n".join(lines)


def up(cfg) -> int:
    migrate.ensure_database(cfg.admin_conninfo, cfg.database_name)
    applied = migrate.migrate(cfg.admin_conninfo, cfg.app_user, cfg.app_password)
    print(
        f"database {cfg.database_name}: {len(applied)} migrations applied", flush=True
    )
    try:
        for line in load_districts(cfg.app_conninfo):
            print(f"directory {line}", flush=True)
    except DirectoryError as exc:
        print(f"liuhen: {exc}", file=sys.stderr)
        return 2
    tokens = demo_tokens(cfg.app_conninfo, TOKENS)
    stop = stop_on_signals()
    env = child_env(cfg)
    env["LIUHEN_DIGEST_KEY"] = digest_key(cfg)
    env["LIUHEN_PII_KEY"] = pii_key(env)
    children = {
        # Their own session: a Ctrl-C reaches the launcher only, which stops each child
        # once (a nameko service told twice trips over its own timers).
        name: subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
        for name, cmd in commands().items()
    }
    print(banner(cfg.http, list(children), tokens), flush=True)
    code = 0
    while not stop.is_set():
        dead = [n for n, p in children.items() if p.poll() is not None]
        if dead:
            print(
                f"liuhen: {', '.join(dead)} stopped unexpectedly; stopping the rest",
                file=sys.stderr,
            )
            code = 1
            break
        stop.wait(0.5)
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    print("stopped.")
    return code
