"""/api/alerts/rules: create, list, pause/resume and delete alert rules; each rule's delivery history.

Every endpoint needs the bearer token (the stream registry's writes do too); reads as well, since a webhook URL
is often a credential itself. Validation is core.alert_rules' (the CLI's too): a
refusal answers 422 naming the field. The signing secret is in the creation answer only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.orm import Session

from api.alert_schemas import (
    AlertHistory,
    AlertRuleCreate,
    AlertRuleCreated,
    AlertRuleList,
    AlertRuleOut,
    AlertRulePatch,
)
from api.deps import require_token, session_dep, settings_dep
from api.errors import ApiError, responses
from core import alert_rules
from core.settings import Settings
from core.source_policy import SourcePolicy

# Every endpoint needs the token, reads too: a webhook URL is often a credential itself (Slack's are).
router = APIRouter(prefix="/alerts", tags=["alerts"], dependencies=[Depends(require_token)])
RuleId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The rule's id.")]
WRITE = [Depends(require_token)]


def rule_or_404(session: Session, rule_id: int):
    try:
        return alert_rules.get(session, rule_id)
    except alert_rules.RuleNotFound as missing:
        raise ApiError(404, str(missing)) from None


@router.get("/rules", response_model=AlertRuleList, summary="List alert rules", responses=responses(401, 503))
def list_rules(session: Session = Depends(session_dep)) -> AlertRuleList:
    return AlertRuleList(items=[AlertRuleOut(**alert_rules.public_dict(r)) for r in alert_rules.list_rules(session)])


@router.post("/rules", response_model=AlertRuleCreated, status_code=201, dependencies=WRITE,
             summary="Create an alert rule (the answer carries its signing secret, once)",
             responses=responses(401, 413, 415, 422, 429, 503))
def create_rule(
    body: AlertRuleCreate,
    response: Response,
    session: Session = Depends(session_dep),
    settings: Settings = Depends(settings_dep),
) -> AlertRuleCreated:
    spec = alert_rules.validate_rule(
        body.model_dump(), is_known_class=alert_rules.class_checker(session, settings.detector_classes),
        policy=SourcePolicy.from_settings(settings, webhook=True),
        default_cooldown_s=settings.alerts_default_cooldown_s,
    )
    rule, secret = alert_rules.create(session, spec)
    session.commit()
    response.headers["Location"] = f"/api/alerts/rules/{rule.id}"
    response.headers["Cache-Control"] = "no-store"  # the secret
    return AlertRuleCreated(**alert_rules.public_dict(rule), secret=secret)


@router.get("/rules/{rule_id}", response_model=AlertRuleOut, summary="One alert rule",
            responses=responses(401, 404, 422, 503))
def get_rule(rule_id: RuleId, session: Session = Depends(session_dep)) -> AlertRuleOut:
    return AlertRuleOut(**alert_rules.public_dict(rule_or_404(session, rule_id)))


@router.patch("/rules/{rule_id}", response_model=AlertRuleOut, dependencies=WRITE, summary="Pause or resume a rule",
              responses=responses(401, 404, 413, 415, 422, 429, 503))
def patch_rule(rule_id: RuleId, body: AlertRulePatch, session: Session = Depends(session_dep)) -> AlertRuleOut:
    rule_or_404(session, rule_id)
    rule = alert_rules.set_paused(session, rule_id, body.paused)
    session.commit()
    return AlertRuleOut(**alert_rules.public_dict(rule))


@router.delete("/rules/{rule_id}", status_code=204, dependencies=WRITE, summary="Delete a rule and its history",
               responses=responses(401, 404, 422, 429, 503))
def delete_rule(rule_id: RuleId, session: Session = Depends(session_dep)) -> Response:
    rule_or_404(session, rule_id)
    alert_rules.remove(session, rule_id)
    session.commit()
    return Response(status_code=204)


@router.get("/rules/{rule_id}/history", response_model=AlertHistory,
            summary="The rule's latest firings with every delivery attempt", responses=responses(401, 404, 422, 503))
def rule_history(
    rule_id: RuleId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    session: Session = Depends(session_dep),
) -> AlertHistory:
    rule_or_404(session, rule_id)
    return AlertHistory(rule_id=rule_id, items=alert_rules.history(session, rule_id, limit))
