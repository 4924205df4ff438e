"""``api/rpc/*``: session info, company parameters, the event log, public queries and EbsService calls."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from . import companyparams, payroll, state
from .context import db, simulator
from .errors import EbsError, invalid_params
from .tokens import Session, bearer

bp = Blueprint("sim_rpc", __name__, url_prefix="/api/rpc")

ServiceCall = Callable[[Session, dict[str, Any]], Any]

#: The ``[EbsService]`` methods this simulated server has: ``{assembly}/{namespace}/{class}/{method}``.
SERVICES: dict[str, ServiceCall] = {
    "ESCloudStore/Entersoft.CloudStore/CompanyParams/Register": companyparams.register,
    "ESCloudStore/Entersoft.CloudStore/CompanyParams/Unregister": companyparams.unregister,
    "ESPayroll/Entersoft.Payroll/TimeAttendance/ImportPunches": payroll.import_punches,
    "ESPayroll/Entersoft.Payroll/TimeAttendance/ListPunches": payroll.list_punches,
}


def _payload() -> dict[str, Any]:
    if not request.get_data():
        return {}
    body = request.get_json(force=True, silent=True)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise invalid_params("The request body must be a JSON object")
    return body


@bp.get("/FetchSessionInfo/")
@bp.get("/FetchSessionInfo")
@bearer
def fetch_session_info(session: Session) -> ResponseReturnValue:
    """Describe the session: installation version, user, company, branch, and users per channel."""
    users_online = state.count_live_tokens(
        db(), subscription_id=session.subscription.id, bridge_id=session.bridge.id, now=time.time()
    )
    webapi = simulator().config.webapi
    props = [
        (101, "Installation version", str(webapi.get("InstallationVersion", "4.0.36 - 2"))),
        (16, "Current users per channel", f"BackOffice = 0, Retail = 0, Mobile = 0, Web = {users_online}"),
        (1, "User", session.user.user_id),
        (2, "User name", session.user.name),
        (3, "Database", session.bridge.database_id),
        (4, "Company", session.bridge.company_id),
        (5, "Company name", session.bridge.company_name),
        (6, "Branch", session.branch_id),
        (7, "Language", session.lang_id),
        (8, "Subscription", session.subscription.id),
        (9, "Bridge", session.bridge.id),
    ]
    return jsonify({"ESProperty": [{"ID": i, "Description": d, "ValueS": v, "Type": "String"} for i, d, v in props]})


@bp.get("/FetchCompanyParam/<param_id>")
@bearer
def fetch_company_param(param_id: str, session: Session) -> ResponseReturnValue:
    """One company parameter of the session's bridge."""
    return jsonify(companyparams.fetch_param(session, param_id))


@bp.get("/ParameterValue/<param_id>")
@bearer
def parameter_value(param_id: str, session: Session) -> ResponseReturnValue:
    """The value only of one company parameter."""
    return jsonify(companyparams.fetch_param(session, param_id)["Value"])


@bp.get("/FetchCompanyParams/")
@bp.get("/FetchCompanyParams")
@bp.get("/FetchCompanyParams/<path:param_ids>")
@bearer
def fetch_company_params(session: Session, param_ids: str = "") -> ResponseReturnValue:
    """The named parameters (``/id1/id2/...``), or all of them; ``?GroupID=`` keeps one group."""
    ids = [p for p in param_ids.split("/") if p]
    if ids:
        params = [companyparams.fetch_param(session, p) for p in ids]
    else:
        params = list(companyparams.bridge_params(session).values())
    group = request.args.get("GroupID")
    if group is not None:
        params = [p for p in params if p["GroupID"] == group]
    return jsonify(params)


@bp.post("/EventLog/")
@bp.post("/EventLog")
@bearer
def write_event_log(session: Session) -> ResponseReturnValue:
    """Append an entry ``{ID, Description, TypeID}`` (0 info, 1 warning, 2 error, 3 fatal) to the bridge's log."""
    body = _payload() or dict(request.args)
    event_id, description, type_id = body.get("ID"), body.get("Description", ""), body.get("TypeID", 0)
    if isinstance(type_id, str) and type_id.isdigit():
        type_id = int(type_id)
    if not isinstance(event_id, str | int) or isinstance(event_id, bool) or str(event_id) == "":
        raise invalid_params("ID is required")
    if not isinstance(description, str):
        raise invalid_params("Description must be a string")
    if type_id not in (0, 1, 2, 3) or isinstance(type_id, bool):
        raise invalid_params("TypeID must be 0 (info), 1 (warning), 2 (error) or 3 (fatal)")
    seq = state.add_event(
        db(),
        event={
            "subscription_id": session.subscription.id,
            "bridge_id": session.bridge.id,
            "event_id": str(event_id),
            "description": description,
            "type_id": type_id,
            "user_id": session.user.user_id,
            "logged_at": state.now_iso(),
        },
    )
    return jsonify({"Logged": True, "SeqNum": seq})


@bp.get("/EventLog/")
@bp.get("/EventLog")
@bearer
def read_event_log(session: Session) -> ResponseReturnValue:
    """The bridge's event log, oldest first (a simulator addition, for tests and inspection)."""
    rows = state.list_events(db(), subscription_id=session.subscription.id, bridge_id=session.bridge.id)
    entries = [
        {
            "SeqNum": r["seq"],
            "ID": r["event_id"],
            "Description": r["description"],
            "TypeID": r["type_id"],
            "UserID": r["user_id"],
            "LoggedAt": r["logged_at"],
        }
        for r in rows
    ]
    return jsonify({"Entries": entries, "Count": len(entries)})


def _query_rows(session: Session, group_id: str, filter_id: str) -> tuple[str, list[dict[str, Any]]]:
    key = f"{group_id}/{filter_id}".lower()
    if key == "esgosites/branches":
        rows = [{"Code": b.id, "Description": b.name} for b in session.bridge.branches.values()]
        return "ESGOSites", rows
    if key == "espayroll/employees":
        rows = [{"Code": e.code, "Name": e.name} for e in session.bridge.employees.values()]
        return "ESPayrollEmployees", rows
    raise EbsError(404, "public-query-not-found", f"Public query [{group_id}/{filter_id}] not found")


def _paging_options() -> tuple[int, int, bool] | None:
    raw = request.headers.get("X-ESPQOptions")
    if not raw:
        return None
    try:
        options = json.loads(raw)
        page, size = int(options.get("Page", 1)), int(options.get("PageSize", 20))
        with_count = bool(options.get("WithCount", True))
    except (ValueError, TypeError, AttributeError) as exc:
        raise invalid_params("X-ESPQOptions must be JSON {Page, PageSize, WithCount}") from exc
    if page < 1 or size < 1:
        raise invalid_params("Page and PageSize must be positive")
    return page, size, with_count


@bp.route("/PublicQuery/<group_id>/<filter_id>", methods=["GET", "POST"])
@bearer
def public_query(group_id: str, filter_id: str, session: Session) -> ResponseReturnValue:
    """A small fixed dataset (branches, payroll employees) with EBS's paging rules."""
    table, rows = _query_rows(session, group_id, filter_id)
    paging = _paging_options()
    if paging is None:
        return jsonify({"Table": table, "Rows": rows, "Count": len(rows), "Page": -1, "PageSize": -1})
    page, size, with_count = paging
    chunk = rows[(page - 1) * size : page * size]
    count = len(rows) if with_count else -1
    return jsonify({"Table": table, "Rows": chunk, "Count": count, "Page": page, "PageSize": size})


@bp.post("/EbsService/<path:spec>")
@bearer
def ebs_service(spec: str, session: Session) -> ResponseReturnValue:
    """Run a registered ``[EbsService]`` method with the JSON body as its single parameter."""
    if len([p for p in spec.split("/") if p]) < 4:
        raise EbsError(400, "invalid-service-specification", f"Service [{spec}] is not assembly/ns/class/method")
    call = SERVICES.get(spec.strip("/"))
    if call is None:
        raise EbsError(403, "invalid-service", f"Service [{spec}] is not an EbsService")
    return jsonify(call(session, _payload()))
