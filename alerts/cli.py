"""``streamscope alerts ...``: rules (add, list, pause, resume, remove), their delivery history, and the
evaluator (``evaluate`` loops; ``--once`` runs one pass, as the alerts DAG does)."""

from __future__ import annotations

import json
import signal
import threading
from typing import Annotated

import typer

alerts_app = typer.Typer(help="Alert rules and their webhook deliveries.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _run(action):
    """``action(session)`` in a transaction; refusals exit 2 with the field, a missing rule 3."""
    from core import alert_rules, registry
    from core.db.engine import session_scope
    from core.runtime import RuntimeNotRunning

    try:
        with session_scope() as session:
            return action(session)
    except registry.RegistryError as refused:
        field = f" ({refused.field})" if refused.field else ""
        raise _fail(f"{refused.reason}{field}", code=2) from None
    except alert_rules.RuleNotFound as missing:
        raise _fail(str(missing), code=3) from None
    except RuntimeNotRunning as missing:
        raise _fail(str(missing)) from None


def _jsonable(data):
    return json.loads(json.dumps(data, default=str))


@alerts_app.command("add")
def add(
    name: Annotated[str, typer.Option(help="What the rule is called.")],
    condition: Annotated[str, typer.Option(help="count_above, count_below, anomaly_score or stream_down.")],
    webhook: Annotated[str, typer.Option(help="http(s) URL that receives the signed POSTs.")],
    object_class: Annotated[str, typer.Option("--class", help="Object class (count rules; anomaly: optional).")] = "",
    threshold: Annotated[float, typer.Option(help="Objects per frame (count rules) or the score k (anomaly).")] = 0.0,
    minutes: Annotated[int, typer.Option(help="How long the condition must hold (count and down rules).")] = 0,
    stream: Annotated[list[int] | None, typer.Option("--stream", help="Only these stream ids (repeatable; "
                                                     "default: all).")] = None,
    cooldown: Annotated[int | None, typer.Option(help="Seconds before the same stream fires again.")] = None,
    slack: Annotated[bool, typer.Option("--slack", help="Slack-compatible body (text and a block).")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a rule; prints its signing secret once (keep it: it is never shown again)."""
    from core import alert_rules
    from core.settings import get_settings
    from core.source_policy import SourcePolicy

    settings = get_settings()
    raw = {"name": name, "condition": condition, "webhook_url": webhook, "object_class": object_class,
           "threshold": threshold, "minutes": minutes, "stream_ids": stream or None, "cooldown_s": cooldown,
           "payload_format": "slack" if slack else "json"}

    def action(session):
        spec = alert_rules.validate_rule(
            raw, is_known_class=alert_rules.class_checker(session, settings.detector_classes),
            policy=SourcePolicy.from_settings(settings, webhook=True),
            default_cooldown_s=settings.alerts_default_cooldown_s)
        rule, secret = alert_rules.create(session, spec)
        return {**alert_rules.public_dict(rule), "secret": secret}

    data = _jsonable(_run(action))
    if as_json:
        typer.echo(json.dumps(data))
    else:
        typer.echo(f"created alert rule {data['id']}: {data['name']}")
        typer.echo(f"signing secret (shown once): {data['secret']}")


@alerts_app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the rules (never their secrets)."""
    from core import alert_rules

    rules = _jsonable(_run(lambda s: [alert_rules.public_dict(r) for r in alert_rules.list_rules(s)]))
    if as_json:
        typer.echo(json.dumps(rules))
        return
    if not rules:
        typer.echo("no alert rules")
        return
    for r in rules:
        state = "paused" if r["paused"] else "active"
        streams = ",".join(map(str, r["stream_ids"])) if r["stream_ids"] else "all"
        typer.echo(f"{r['id']:>4}  {state:6}  {r['condition']:13} {r['object_class'] or '-':14} "
                   f"{r['threshold']:>6g} {r['minutes']:>4} min  streams {streams:10} {r['name'][:40]}")


def _set_paused(rule_id: int, paused: bool) -> None:
    from core import alert_rules

    _run(lambda s: alert_rules.set_paused(s, rule_id, paused))
    typer.echo(f"{'paused' if paused else 'resumed'} alert rule {rule_id}")


@alerts_app.command("pause")
def pause(rule_id: int) -> None:
    """Stop evaluating a rule (deliveries already made stay)."""
    _set_paused(rule_id, True)


@alerts_app.command("resume")
def resume(rule_id: int) -> None:
    """Evaluate a paused rule again."""
    _set_paused(rule_id, False)


@alerts_app.command("remove")
def remove(rule_id: int) -> None:
    """Delete a rule with its firings and delivery history."""
    from core import alert_rules

    _run(lambda s: alert_rules.remove(s, rule_id))
    typer.echo(f"removed alert rule {rule_id}")


@alerts_app.command("history")
def history(rule_id: int, limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A rule's latest firings and every delivery attempt (status, latency, error)."""
    from core import alert_rules

    items = _jsonable(_run(lambda s: alert_rules.history(s, rule_id, limit)))
    if as_json:
        typer.echo(json.dumps(items))
        return
    for item in items:
        typer.echo(f"{item['fired_at']}  stream {item['stream_id']}  {item['state']:9}  {item['summary']}")
        for a in item["attempts"]:
            latency = f"{a['latency_ms']:.0f} ms" if a["latency_ms"] is not None else "-"
            typer.echo(f"    attempt {a['attempt']}: {a['status']:11} {a['http_status'] or '-'}  {latency}  "
                       f"{a['error'] or ''}")


@alerts_app.command("evaluate")
def evaluate(
    once: Annotated[bool, typer.Option("--once", help="One pass (evaluate, deliver what is due), then exit.")] = False,
    interval: Annotated[float | None, typer.Option(help="Seconds between passes (default: the setting).")] = None,
) -> None:
    """Evaluate the rules and deliver their firings, every interval until SIGTERM (or once)."""
    from alerts import worker
    from core.runtime import RuntimeNotRunning
    from core.settings import get_settings

    settings = get_settings()
    try:
        if once:
            typer.echo(json.dumps(worker.run_pass(settings)))
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        passes = worker.run(settings, stop=stop, interval_s=interval)
    except RuntimeNotRunning as missing:
        raise _fail(str(missing)) from None
    typer.echo(json.dumps({"passes": passes}))
