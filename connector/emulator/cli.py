"""``connector emulator serve``: the local org in the foreground until Ctrl-C.

Before accepting any request it writes ``D/ca.pem`` and ``D/connection.env``
(the ``SF_*`` settings a client needs), so a script can start it in the
background, wait for the file and connect. The lead mounts ``emulator_app``
into the main CLI.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import typer

from connector.emulator.connection import write_connection_files
from connector.emulator.org import Org, OrgOptions
from connector.emulator.seed import SeedError, load_seed
from connector.emulator.server import EmulatorServer
from connector.errors import ConfigError, ConnectorError

emulator_app = typer.Typer(no_args_is_help=True, add_completion=False,
                           help="The local Salesforce org emulator.")



@emulator_app.callback()
def _emulator() -> None:
    """The local Salesforce org emulator (HTTPS on loopback, SQLite-backed)."""


DEMO_PEOPLE = 1000
DEMO_SEED = 42


def _demo_seed_dir(data_dir: Path) -> Path:
    """Generate the demo org with the data generator (imported lazily: optional here)."""
    try:
        from connector.datagen import generate
    except ImportError as exc:
        raise ConfigError(
            f"--seed demo needs the data generator (connector.datagen.generate): {exc}",
            hint="use --seed empty or --seed PATH to a seed directory") from None
    out_dir = data_dir / "demo-data"
    result: Any = generate(out_dir, people=DEMO_PEOPLE, seed=DEMO_SEED)
    return Path(result.sf_dir)


def _seed(org: Org, seed: str, data_dir: Path) -> str:
    if seed == "empty":
        return "empty org"
    if org.store.get_meta("seeded") or org.store.record_count() > 0:
        return "existing data kept (--seed applies to a new data directory only)"
    seed_dir = _demo_seed_dir(data_dir) if seed == "demo" else Path(seed)
    if not seed_dir.is_dir():
        raise ConfigError(f"--seed {seed}: not a directory",
                          hint="use demo, empty or a seed directory path")
    keys = load_seed(org, seed_dir)
    org.store.set_meta("seeded", str(seed_dir))
    return f"seeded {len(keys)} records from {seed_dir}"


@emulator_app.command("serve")
def serve(
    data_dir: Path = typer.Option(..., "--data-dir", help="Where the org lives (kept between "
                                  "runs); created if missing."),
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1; 0 picks a free one."),
    seed: str = typer.Option("empty", "--seed", help="demo, empty, or a seed directory."),
    daily_max: int | None = typer.Option(None, "--daily-max", min=0,
                                         help="Daily API allocation (default 100000)."),
    session_seconds: int | None = typer.Option(None, "--session-seconds", min=1,
                                               help="Token lifetime (default 7200)."),
    timezone: str | None = typer.Option(None, "--timezone",
                                        help="Org time zone for date fields (default UTC)."),
    mappings: Path | None = typer.Option(None, "--mappings", envvar="CONNECTOR_MAPPINGS",
                                         help="Mappings directory whose custom fields the "
                                         "org serves (default: bundled)."),
) -> None:
    """Run the local Salesforce org over HTTPS until Ctrl-C."""
    try:
        org = Org(data_dir, OrgOptions(daily_max=daily_max, session_seconds=session_seconds,
                                       timezone=timezone, mappings_dir=mappings))
    except (ValueError, ConnectorError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    server: EmulatorServer | None = None
    try:
        note = _seed(org, seed, data_dir)
        server = EmulatorServer(org, port=port)
        server.bind()
        env_path = write_connection_files(org, server.url, server.ca_path)
    except (SeedError, ConfigError) as exc:
        org.close()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        org.close()
        typer.echo(f"error: cannot serve on port {port}: {exc}", err=True)
        raise typer.Exit(3) from None
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=server.serve, name="emulator-https", daemon=True)
    thread.start()
    typer.echo(f"Salesforce org emulator: {server.url}  ({note})")
    typer.echo(f"connection settings: {env_path}  (CA bundle: {server.ca_path})")
    typer.echo("Ctrl-C to stop.")
    try:
        while not stop.wait(0.5):
            if not thread.is_alive():
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
        thread.join(timeout=10)
        org.close()
    typer.echo("emulator stopped.")

