"""What the Salesforce CLI (``sf``) asks of an org beyond the connector's own calls.

``sf org login access-token`` reads ``/services/oauth2/userinfo``; ``sf data
query`` asks ``query?q=...&columns=true`` for the column metadata of a query
that returned rows (answered from the compiled query alone: no cursor, no
counted call); every command reads the one ``Organization`` row; ``sf data
import tree`` posts ``composite/tree`` (children nested under the child
relationships describe lists); ``sf org list limits``-style tools read
``limits/recordCount``. Shapes follow Salesforce's; tests pin them.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from connector.emulator.auth import Session
from connector.emulator.dml import require_object
from connector.emulator.org import Org
from connector.emulator.records import CallError, RecordError, SaveResult, parse_json_record
from connector.emulator.schema import FieldSchema, ObjectSchema
from connector.emulator.soql import SoqlError, compile_soql
from connector.emulator.soql.shape import Column, RecordNode
from connector.emulator.wire import Call, json_response

TREE_MAX_RECORDS = 200
TREE_MAX_DEPTH = 5
_TEXT = frozenset({"string", "textarea", "email", "phone", "url", "picklist"})
_NUMBER = frozenset({"int", "double", "currency", "percent"})
_APEX = {"id": "Id", "reference": "Id", "boolean": "Boolean", "int": "Integer",
         "double": "Double", "currency": "Double", "percent": "Double", "date": "Date",
         "datetime": "Datetime"}


def userinfo(org: Org, session: Session, base_url: str) -> dict[str, Any]:
    """``GET /services/oauth2/userinfo``: the OpenID Connect claims of the session's user."""
    creds = org.credentials
    with org.store.lock:
        row = org.store.conn.execute(
            'SELECT Username, FirstName, LastName, Name, Email, TimeZoneSidKey FROM "User" '
            "WHERE Id = ?", (session.user_id,)).fetchone()
    username, first, last, name, email, zone = row if row else (
        creds.username, "Integration", "User", "Integration User", "", "UTC")
    identity = f"{base_url}/id/{creds.org_id}/{session.user_id}"
    return {
        "sub": identity, "user_id": session.user_id, "organization_id": creds.org_id,
        "preferred_username": username, "nickname": username.split("@")[0], "name": name,
        "email": email, "email_verified": True, "given_name": first, "family_name": last,
        "zoneinfo": zone, "locale": "en_US", "language": "en_US", "active": True,
        "user_type": "STANDARD", "is_app_installed": True, "utcOffset": 0,
        "urls": {
            "rest": f"{base_url}/services/data/v{{version}}/",
            "sobjects": f"{base_url}/services/data/v{{version}}/sobjects/",
            "query": f"{base_url}/services/data/v{{version}}/query/",
        },
    }


def identity(org: Org, session: Session, base_url: str) -> dict[str, Any]:
    """``GET /id/ORG/USER`` (the ``id`` URL of every token response): the
    identity service's view of the same user."""
    claims = userinfo(org, session, base_url)
    return {
        "id": claims["sub"], "asserted_user": True, "user_id": claims["user_id"],
        "organization_id": claims["organization_id"], "username": claims["preferred_username"],
        "nick_name": claims["nickname"], "display_name": claims["name"],
        "email": claims["email"], "email_verified": True, "first_name": claims["given_name"],
        "last_name": claims["family_name"], "timezone": claims["zoneinfo"], "active": True,
        "user_type": "STANDARD", "language": "en_US", "locale": "en_US", "utcOffset": 0,
        "urls": claims["urls"], "is_app_installed": True,
    }


def _column(f: FieldSchema, name: str) -> dict[str, Any]:
    return {
        "aggregate": False, "apexType": _APEX.get(f.type, "String"),
        "booleanType": f.type == "boolean", "columnName": name, "custom": f.name.endswith("__c"),
        "displayName": name, "foreignKeyName": None, "insertable": f.createable,
        "joinColumns": [], "numberType": f.type in _NUMBER, "textType": f.type in _TEXT,
        "updatable": f.updateable,
    }


def _columns(node: RecordNode) -> list[dict[str, Any]]:
    out = []
    for key, child in node.children:
        if isinstance(child, Column):
            out.append(_column(child.field, key))
        else:
            out.append({
                "aggregate": False, "apexType": child.object_name, "booleanType": False,
                "columnName": key, "custom": key.endswith("__r"), "displayName": key,
                "foreignKeyName": None, "insertable": False, "joinColumns": _columns(child),
                "numberType": False, "textType": False, "updatable": False})
    return out


def column_metadata(call: Call, *, include_deleted: bool) -> Response:
    """``query?q=...&columns=true``: the columns a query selects, without running it."""
    org = call.org
    soql = call.request.args.get("q")
    if not soql:
        raise CallError(400, "MALFORMED_QUERY", "A query string has to be specified")
    try:
        cq = compile_soql(org.schema, soql, now=org.clock.now(), tz=org.clock.tz,
                          include_deleted=include_deleted, api_version=call.version)
    except SoqlError as exc:
        raise CallError(400, exc.code, exc.message) from None
    obj = org.schema.get(cq.object_name)
    root = cq.records_root
    columns = _columns(root) if root is not None else []
    return json_response({
        "columnMetadata": columns, "entityName": cq.object_name, "groupBy": False,
        "idSelected": any(c["columnName"] == "Id" for c in columns),
        "keyPrefix": obj.key_prefix if obj else None})


class CliApi:
    """REST resources the Salesforce CLI uses and the connector does not."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def record_count(self, call: Call) -> Response:
        """``limits/recordCount?sObjects=A,B``: live records per object."""
        wanted = [n.strip() for n in call.request.args.get("sObjects", "").split(",")
                  if n.strip()]
        names = [require_object(self.org.schema, n).name for n in wanted] if wanted else \
            [o for o in self.org.schema.objects if o != "Organization"]
        store = self.org.store
        with store.lock:
            counts = [{"count": int(store.conn.execute(
                f'SELECT COUNT(*) FROM "{name}" WHERE IsDeleted = 0').fetchone()[0]),
                "name": name} for name in names]
        return json_response({"sObjects": counts})

    def composite_resources(self, call: Call) -> Response:
        base = f"/services/data/v{call.version}/composite"
        return json_response({"tree": f"{base}/tree", "sobjects": f"{base}/sobjects"})

    def composite_tree(self, call: Call, obj: str) -> Response:
        """``composite/tree/{obj}``: create up to 200 records (children nested under
        their parent's child relationship, five levels deep), all or none."""
        schema = require_object(self.org.schema, obj)
        body = call.body()
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise CallError(400, "JSON_PARSER_ERROR",
                            "The request body must be an object with a 'records' list")
        total = _count_tree(records)
        if total > TREE_MAX_RECORDS:
            raise CallError(400, "LIMIT_EXCEEDED", f"Exceeded max limit of records: "
                            f"{TREE_MAX_RECORDS}, total records count: {total}")
        results: list[dict[str, Any]] = []
        with self.org.store.transaction() as tx:
            writer = call.writer()
            self._create_tree(writer, schema, records, None, 1, results)
            failed = any("errors" in r for r in results)
            if failed:
                tx.rollback_only = True
        if failed:
            return json_response({"hasErrors": True,
                                  "results": [r for r in results if "errors" in r]}, 400)
        return json_response({"hasErrors": False, "results": results}, 201)

    def _create_tree(self, writer: Any, schema: ObjectSchema, records: list[dict[str, Any]],
                     parent: tuple[str, str] | None, depth: int,
                     results: list[dict[str, Any]]) -> None:
        if depth > TREE_MAX_DEPTH:
            raise CallError(400, "INVALID_INPUT", f"records nest deeper than {TREE_MAX_DEPTH} "
                            "levels")
        for data in records:
            attributes = data.get("attributes") or {}
            ref = str(attributes.get("referenceId") or "")
            if str(attributes.get("type", schema.name)).lower() != schema.name.lower():
                raise CallError(400, "INVALID_INPUT", f"record {ref}: type must be "
                                f"{schema.name}")
            fields: dict[str, Any] = {}
            nested: list[tuple[str, list[dict[str, Any]]]] = []
            for key, value in data.items():
                if key == "attributes":
                    continue
                if isinstance(value, dict) and "records" in value:
                    nested.append((key, value["records"]))
                else:
                    fields[key] = value
            unknown = [k for k, _ in nested if _child(schema, k) is None]
            if unknown:
                result = SaveResult.failed(RecordError(
                    "INVALID_FIELD", f"No such child relationship '{unknown[0]}' on entity "
                    f"'{schema.name}'"))
            else:
                if parent is not None:
                    fields[parent[0]] = parent[1]
                result = writer.create(schema, parse_json_record(
                    schema, {"attributes": {"type": schema.name}, **fields},
                    self.org.schema.get))
            if not result.success:
                results.append({"referenceId": ref, "errors": [
                    {"statusCode": e.code, "message": e.message, "fields": e.fields}
                    for e in result.errors]})
                continue
            results.append({"referenceId": ref, "id": result.id})
            for key, children in nested:
                child = _child(schema, key)
                assert child is not None
                child_schema = require_object(self.org.schema, child[0])
                if not isinstance(children, list) or not all(isinstance(c, dict)
                                                             for c in children):
                    raise CallError(400, "JSON_PARSER_ERROR",
                                    f"record {ref}: {key} must hold a 'records' list")
                self._create_tree(writer, child_schema, children, (child[1], str(result.id)),
                                  depth + 1, results)


def _child(schema: ObjectSchema, name: str) -> tuple[str, str] | None:
    lowered = name.lower()
    for key, value in schema.children.items():
        if key.lower() == lowered:
            return value
    return None


def _count_tree(records: list[Any]) -> int:
    total = 0
    for data in records:
        if not isinstance(data, dict):
            continue
        total += 1
        for value in data.values():
            if isinstance(value, dict) and isinstance(value.get("records"), list):
                total += _count_tree(value["records"])
    return total
