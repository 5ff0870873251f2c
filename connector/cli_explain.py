"""``connector explain`` (person, account, opportunity) and ``connector
attribution run``: the commands that say why a record looks the way it does and
recompute the credits behind it. Mounted on the main app by
``connector.cli._mount_optional``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from connector.cli import (
    AsOfOpt,
    Format,
    FormatOpt,
    _context,
    _emit_json,
    _guard,
    _json_mode,
    _locked_context,
    _parse_as_of,
)
from connector.errors import ConfigError
from connector.run.status import RunStatus

explain_app = typer.Typer(no_args_is_help=True, help="Say why a record looks the way it does.")


def _print_scalars(title: str, data: dict[str, Any]) -> None:
    """The top-level values of an explanation as a key/value table."""
    from connector.reports.console import key_values, out

    out.print(key_values(title, [(k, v) for k, v in data.items()
                                 if not isinstance(v, (list, dict))]))


attribution_app = typer.Typer(no_args_is_help=True,
                              help="Multi-touch attribution with revenue credit.")


@attribution_app.command("run")
def attribution_run_cmd(
    model: Annotated[list[str] | None, typer.Option(
        "--model", help="a model to compute (repeatable; default: attribution.yaml's)")] = None,
    as_of: AsOfOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="compute and count, write "
                                          "nothing")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Recompute credits for every opportunity; write only what changed."""
    _json_mode(fmt)

    def go() -> int:
        from connector.engine.attribution_config import MODEL_NAMES
        from connector.reports.console import key_values, out
        from connector.run.attribution import AttributionRun
        from connector.salesforce import SalesforceClient

        bad = sorted(set(model or ()) - set(MODEL_NAMES))
        if bad:
            raise ConfigError(f"unknown attribution model(s): {', '.join(bad)}",
                              hint=f"choose from {', '.join(MODEL_NAMES)}")
        moment = _parse_as_of(as_of)
        settings, mappings, store, lock = _locked_context("attribution run")
        try:
            client = SalesforceClient(settings.salesforce).connect()
            run_id = store.start_run("attribution", moment)
            try:
                result = AttributionRun(client, store, mappings, as_of=moment,
                                        models=model or None,  # type: ignore[arg-type]
                                        dry_run=dry_run).run(run_id)
            except BaseException as exc:
                store.finish_run(run_id, RunStatus.FAILED, {"error": str(exc)})
                raise
            store.finish_run(run_id, result.status, result.as_json())
        finally:
            store.close()
            lock.release()
        if fmt is Format.json:
            _emit_json(result.as_json())
        else:
            obj = result.objects["Attribution__c"]
            out.print(key_values(f"Attribution ({result.status})", [
                ("models", ", ".join(result.models)),
                ("opportunities", f"{result.opportunities} ({result.attributed} attributed, "
                                  f"{result.unattributed} without touches in their window)"),
                ("Attribution__c", ", ".join(f"{k} {v}" for k, v in obj.items())),
                ("API calls", result.api_calls)]))
            if result.stopped:
                out.print(f"[yellow]Stopped early:[/yellow] {result.stopped}")
        return result.exit_code

    raise typer.Exit(_guard(go))


@explain_app.command("opportunity")
def explain_opportunity_cmd(
    opportunity_id: Annotated[str, typer.Argument(metavar="ID")],
    fmt: FormatOpt = Format.table,
    as_of: AsOfOpt = None,
) -> None:
    """The touches considered (and left out, with why), positions, each model's shares."""
    _json_mode(fmt)

    def go() -> None:
        from connector.engine.attribution_explain import explanation
        from connector.reports.console import out
        from connector.run.attribution import AttributionRun
        from connector.sfid import to18

        _settings, mappings, store = _context()
        try:
            key = to18(opportunity_id)
        except ValueError:
            raise ConfigError(f"{opportunity_id!r} is not a Salesforce id") from None
        found = AttributionRun(None, store, mappings,
                               as_of=_parse_as_of(as_of)).explain(key)
        if found is None:
            raise ConfigError(f"no opportunity {opportunity_id} in the mirror",
                              hint="run `connector sync` (it reads opportunities) first")
        data = explanation(found[0])
        if fmt is Format.json:
            _emit_json(data)
            return
        from rich.table import Table

        _print_scalars("Opportunity", data)
        for model in data.get("models", []):
            table = Table(title=f"{model['model']}", title_justify="left")
            for col in ("touch", "share", "credit %", "revenue", "rule"):
                table.add_column(col)
            for t in model["touches"]:
                table.add_row(t["touch_id"], t["share"], str(t["credit"]), str(t["revenue"]),
                              t["rule"])
            out.print(table)

    _guard(go)


@explain_app.command("account")
def explain_account_cmd(
    key: Annotated[str, typer.Argument(metavar="DOMAIN_OR_ID")],
    fmt: FormatOpt = Format.table,
    as_of: AsOfOpt = None,
) -> None:
    """Account fit, engagement, buying stage, and the people and rules behind them."""
    _json_mode(fmt)

    def go() -> None:
        from connector.reports.console import out
        from connector.run.explain import explain_account

        _settings, mappings, store = _context()
        data = explain_account(store, mappings, key, as_of=_parse_as_of(as_of))
        if fmt is Format.json:
            _emit_json(data)
            return
        _print_scalars("Account", data)
        for part in ("fit", "engagement"):
            for rule in data.get(part, {}).get("rules", []):
                out.print(f"- {part}: {rule.get('rule')} {rule.get('points'):+} "
                          f"{rule.get('detail') or ''}", highlight=False)

    _guard(go)


@explain_app.command("person")
def explain_person_cmd(
    key: Annotated[str, typer.Argument(metavar="EMAIL_OR_MAP_ID")],
    fmt: FormatOpt = Format.table,
    as_of: AsOfOpt = None,
) -> None:
    """Match rule, sources, cycles, touches and field decisions for one person."""
    _json_mode(fmt)

    def go() -> None:
        from connector.reports.console import key_values, out
        from connector.run.explain import explain_person

        settings, mappings, store = _context()
        data = explain_person(store, mappings, key, tz=settings.salesforce.tz,
                              as_of=_parse_as_of(as_of))
        if fmt is Format.json:
            _emit_json(data)
            return
        from rich.table import Table

        match = data["match"] or {}
        out.print(key_values("Match", [(k, v) for k, v in match.items()]))
        for line in data["sources"]:
            out.print(f"- {line}", highlight=False)
        table = Table(title="Fields", title_justify="left")
        for col in ("field", "policy", "salesforce", "connector", "decision", "why"):
            table.add_column(col)
        for f in data["fields"]:
            table.add_row(f["field"], f["policy"], str(f["salesforce"]), str(f["connector"]),
                          f["decision"], f["why"])
        out.print(table)
        touches = Table(title=f"Touches ({len(data['touches'])})", title_justify="left")
        for col in ("when", "type", "program", "channel", "rule"):
            touches.add_column(col)
        for t in data["touches"][-25:]:
            touches.add_row(t["occurred_at"][:16], t["type"] + (" *" if t["response"] else ""),
                            t["program"] or t["program_id"] or "-", t["channel"],
                            t["channel_rule"])
        out.print(touches)
        out.print("* a response")
        scores = data.get("scores")
        if scores:
            table = Table(title=f"Scores: lead {scores['lead']} = behavior "
                                f"{scores['behavior']['total']} + fit {scores['fit']['total']}",
                          title_justify="left")
            for col in ("score", "rule", "points", "why"):
                table.add_column(col)
            for part in ("behavior", "fit"):
                for rule in scores[part]["rules"]:
                    table.add_row(part, rule["rule"], str(rule["points"]),
                                  str(rule.get("detail") or ""))
            out.print(table)
            life = data.get("lifecycle") or {}
            out.print(f"Lifecycle: {life.get('stage')} (cycle {life.get('cycle')}); "
                      + ", ".join(f"{k} {v[:10]}" for k, v in (life.get("dates") or {}).items())
                      + (f"; excluded: {scores['excluded_reason']}"
                         if scores.get("excluded_reason") else ""), highlight=False)
        for problem in data.get("problems") or []:
            out.print(f"[yellow]problem:[/yellow] {problem}", highlight=False)

    _guard(go)


# -------------------------------------------------------------- doctor


