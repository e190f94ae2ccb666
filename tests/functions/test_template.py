"""template.yaml and the layer against the code: handlers exist, routes match the README, policies stay narrow,
and the dashboard and alarms watch metrics that ``pampax.observability`` really emits."""

from __future__ import annotations

import io
import json
import re
import tomllib

from pampax.config import ObservabilitySettings
from pampax.errors import ERROR_TABLE, InvalidRequest, http_status_for
from pampax.observability import LATENCY_METRICS, METRIC_NAMES, MetricsSink, Telemetry, make_logger
from pampax_local.openapi import ROUTES
from pampax_local.sam import load_template, read_template

from .support import REPO, TEMPLATE

FUNCTIONS = read_template(TEMPLATE)
TEMPLATE_DATA = load_template(TEMPLATE)
RESOURCES = TEMPLATE_DATA["Resources"]
# Stand-ins for the MetricsNamespace and ServiceName parameters, on both sides of the comparison.
NAMESPACE, SERVICE = "TemplateTestNamespace", "template-test-service"


def _policy_text(logical_id: str) -> str:
    """Return every policy a function gets (inline, SAM templates, managed policies it references) as text."""
    policies = RESOURCES[logical_id]["Properties"].get("Policies", [])
    texts = [repr(p) for p in policies]
    texts += [repr(RESOURCES[p["Ref"]]) for p in policies if isinstance(p, dict) and "Ref" in p]
    return " ".join(texts)


def test_every_function_has_a_handler_and_the_layer():
    layers = load_template(TEMPLATE)["Globals"]["Function"]["Layers"]
    assert layers == [{"Ref": "CoreLayer"}]
    for spec in FUNCTIONS.values():
        module, function = spec.handler.split(".")
        assert re.search(rf"^(def {function}\(|{function} = )", (spec.code_dir / f"{module}.py").read_text(), re.M)


def test_routes_are_the_readme_http_api():
    documented = set(re.findall(r"`(GET|POST) (/[a-z/]+)`", (REPO / "README.md").read_text()))
    served = {route for spec in FUNCTIONS.values() for route in spec.routes}
    assert served == documented == {("POST", "/search"), ("POST", "/assemble"), ("GET", "/health"),
                                    ("POST", "/cache/warm"), ("POST", "/cache/clear"), ("POST", "/index")}


def test_the_api_is_not_open_to_the_world():
    assert RESOURCES["Api"]["Properties"]["Auth"]["DefaultAuthorizer"] == "AWS_IAM"


def test_only_the_index_function_writes_artifacts_and_only_cache_users_touch_the_table():
    for logical_id in FUNCTIONS:
        text = _policy_text(logical_id)
        assert ("s3:PutObject" in text) == (logical_id == "IndexFunction"), logical_id
        assert ("sources/" in text) == (logical_id == "IndexFunction"), logical_id
        assert ("dynamodb:PutItem" in text) == (logical_id in {"SearchFunction", "AssembleFunction", "CacheFunction"})
        assert ("dynamodb:Scan" in text) == (logical_id == "CacheFunction"), logical_id
        assert "s3:*" not in text and "dynamodb:*" not in text and "Resource': '*'" not in text


def test_the_queue_has_a_dead_letter_queue_and_outlives_the_index_timeout():
    queue = RESOURCES["IndexQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": "IndexDeadLetterQueue.Arn"}
    max_timeout = load_template(TEMPLATE)["Parameters"]["IndexTimeout"]["MaxValue"]
    assert queue["VisibilityTimeout"] >= 6 * max_timeout
    assert FUNCTIONS["IndexFunction"].queue_batch_size == 1
    # Lambda has no /dev/shm: the build must not start a process pool there
    assert FUNCTIONS["IndexFunction"].environment["PAMPAX_INDEX_WORKERS"] == "1"


def test_the_layer_requirements_mirror_the_runtime_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    cli_only = {"typer", "rich", "pyyaml"}
    expected = {d.split(";")[0].strip() if ";" not in d else d.replace(" ", "") for d in project
                if re.split(r"[<>=;\[ ]", d)[0].lower() not in cli_only}
    lines = (REPO / "layers" / "pampax" / "requirements.txt").read_text().splitlines()
    layer = {line.replace(" ", "") if ";" in line else line.strip() for line in lines if line and not line.startswith("#")}
    assert layer == expected


# -- hardening ----------------------------------------------------------------------------------


def _events(logical_id: str) -> dict[str, dict]:
    return RESOURCES[logical_id]["Properties"].get("Events", {})


def test_the_index_function_reserves_concurrency_and_its_queue_stays_inside_it():
    # GIVEN the SQS consumer that builds indexes
    props = RESOURCES["IndexFunction"]["Properties"]
    jobs = next(e for e in _events("IndexFunction").values() if e["Type"] == "SQS")
    # THEN its concurrency is reserved (capped, so a burst of jobs cannot take what search runs on)
    assert props["ReservedConcurrentExecutions"] == {"Ref": "IndexConcurrency"}
    # AND SQS never invokes it past that cap, where a throttle would count a receive toward the DLQ
    assert jobs["Properties"]["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "IndexConcurrency"}
    parameter = TEMPLATE_DATA["Parameters"]["IndexConcurrency"]
    assert 2 <= parameter["MinValue"] <= parameter["Default"] <= parameter["MaxValue"] <= 20  # SQS's minimum is 2
    # AND no request handler reserves any: they share the unreserved pool the index function cannot enter
    assert [f for f in FUNCTIONS if "ReservedConcurrentExecutions" in RESOURCES[f]["Properties"]] == ["IndexFunction"]


def test_post_index_only_queues_and_only_the_queue_consumer_writes_the_bucket():
    # GIVEN the two functions that share functions/index/ (its handler dispatches on the event)
    api, consumer = FUNCTIONS["IndexApiFunction"], FUNCTIONS["IndexFunction"]
    assert (api.code_dir, api.handler) == (consumer.code_dir, consumer.handler)
    # THEN the API one serves POST /index, may send to the queue, and touches no S3 object at all
    assert api.routes == (("POST", "/index"),) and api.queue_batch_size is None
    assert "SQSSendMessagePolicy" in _policy_text("IndexApiFunction") and "s3:" not in _policy_text("IndexApiFunction")
    # AND the consumer takes SQS records only, writes the artifacts, and sends nothing
    assert consumer.routes == () and consumer.queue_batch_size == 1
    assert "s3:PutObject" in _policy_text("IndexFunction") and "SQSSendMessagePolicy" not in _policy_text("IndexFunction")


def test_every_function_logs_to_a_group_with_a_retention():
    groups = {r["Properties"]["LogGroupName"]["Fn::Sub"]: r["Properties"] for r in RESOURCES.values()
              if r["Type"] == "AWS::Logs::LogGroup" and "LogGroupName" in r["Properties"]}
    for logical_id in FUNCTIONS:
        # the name Lambda writes to, so the group exists (with its retention) before the first invocation
        assert groups[f"/aws/lambda/${{{logical_id}}}"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id
    parameter = TEMPLATE_DATA["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] in parameter["AllowedValues"]


def test_the_api_writes_json_access_logs_to_a_group_with_a_retention():
    api = RESOURCES["Api"]
    setting = api["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": "ApiAccessLogGroup.Arn"}
    assert RESOURCES["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # each line parses as JSON once API Gateway fills in its variables (unescaped values are left out)
    line = json.loads(re.sub(r"\$context\.[\w.]+", "x", setting["Format"]))
    assert {"requestId", "caller", "httpMethod", "resourcePath", "status", "integrationLatency"} <= set(line)
    # AND API Gateway has the account's CloudWatch role before the stage with access logging exists
    assert api["DependsOn"] == "ApiGatewayAccount"
    account = RESOURCES["ApiGatewayAccount"]["Properties"]
    assert account["CloudWatchRoleArn"] == {"Fn::GetAtt": "ApiGatewayLogRole.Arn"}
    assert RESOURCES["ApiGatewayLogRole"]["DeletionPolicy"] == "Retain"


def _within(gateway: dict, handler: dict) -> bool:
    """Return whether every constraint of a gateway schema is also in the handler model's JSON schema."""
    return all(key in handler and (_within(value, handler[key]) if isinstance(value, dict) else value == handler[key])
               for key, value in gateway.items())


def test_request_bodies_are_validated_at_the_gateway_as_the_handlers_validate_them():
    models = RESOURCES["Api"]["Properties"]["Models"]
    routes = {(e["Properties"]["Method"].upper(), e["Properties"]["Path"]): e["Properties"]
              for f in FUNCTIONS for e in _events(f).values() if e["Type"] == "Api"}
    for method, path, _, request, _, _ in ROUTES:
        schema = request.model_json_schema() if request is not None else {}
        event = routes[(method.upper(), path)]
        if not schema.get("required"):
            # an empty body is a whole request here (every field has a default): the handler decides
            assert "RequestModel" not in event, path
            continue
        # GIVEN a route whose body has required fields
        assert event["RequestModel"] == {"Model": request.__name__, "Required": True, "ValidateBody": True}
        model = models[request.__name__]
        # THEN its gateway model names exactly the handler model's fields, refuses others, requires the same
        assert (model["type"], model["additionalProperties"]) == ("object", False)
        assert set(model["properties"]) == set(request.model_fields), path
        assert sorted(model["required"]) == sorted(schema["required"]), path
        # AND every constraint it states is one the handler states too: the gateway is never the stricter
        for name, constraints in model["properties"].items():
            assert _within(constraints, schema["properties"][name]), (path, name)
            # pydantic's lax mode takes "10" for an int and "true" for a bool: those types stay the handler's
            assert constraints.get("type") not in {"integer", "number", "boolean"}, (path, name)
    assert set(models) == {e["RequestModel"]["Model"] for e in routes.values() if "RequestModel" in e}


def test_a_body_the_gateway_refuses_answers_the_handlers_error_body():
    response = RESOURCES["Api"]["Properties"]["GatewayResponses"]["BAD_REQUEST_BODY"]
    assert response["StatusCode"] == http_status_for("invalid_request") == 422
    # $context.error.messageString is the message as a quoted JSON string
    body = response["ResponseTemplates"]["application/json"].replace("$context.error.messageString", '"Invalid request body"')
    assert json.loads(body) == InvalidRequest("Invalid request body").to_dict()


def test_the_bucket_aborts_incomplete_multipart_uploads():
    rules = RESOURCES["ArtifactBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    aborts = [r for r in rules if "AbortIncompleteMultipartUpload" in r]
    assert len(aborts) == 1 and aborts[0]["Status"] == "Enabled"
    assert "Prefix" not in aborts[0] and "Filter" not in aborts[0]  # the whole bucket: publishes and uploads
    assert 1 <= aborts[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] <= 7


# -- monitoring ---------------------------------------------------------------------------------


def _emitted() -> set[tuple[str, str, frozenset]]:
    """Return (namespace, metric, dimensions) of every EMF metric Telemetry emits, for every op and error kind.

    Captured from the real emitter rather than listed by hand, so renaming a metric or changing a
    dimension in observability.py breaks the references checked below.
    """
    settings = ObservabilitySettings(service=SERVICE, namespace=NAMESPACE)
    sink = io.StringIO()
    telemetry = Telemetry(settings, make_logger(settings, "template-test", io.StringIO()), MetricsSink(stream=sink))
    for op in (*LATENCY_METRICS, "cache_warm"):
        with telemetry.operation(op) as record:
            record.sqlite_ms, record.cache_hit = 1.0, True
    for kind in ERROR_TABLE:
        telemetry.count_error(kind, "counted")
    found = set()
    for line in sink.getvalue().splitlines():
        document = json.loads(line)
        directive = document["_aws"]["CloudWatchMetrics"][0]
        dimensions = frozenset((d, document[d]) for d in directive["Dimensions"][0])
        found |= {(directive["Namespace"], m["Name"], dimensions) for m in directive["Metrics"]}
    return found


def _resolve(value):
    """Return a template value with the namespace and service parameters replaced by the stand-ins.

    Any other intrinsic (``!GetAtt Queue.QueueName``) comes back as its JSON text, so it stays hashable.
    """
    stand_ins = {"MetricsNamespace": NAMESPACE, "ServiceName": SERVICE}
    if isinstance(value, dict):
        return stand_ins.get(value.get("Ref"), json.dumps(value, sort_keys=True))
    return value


def _alarm_metrics(alarm: dict) -> list[tuple[str, str, frozenset]]:
    """Return (namespace, metric, dimensions) of every metric an alarm reads (plain or metric math)."""
    props = alarm["Properties"]
    metrics = [q["MetricStat"]["Metric"] for q in props.get("Metrics", []) if "MetricStat" in q]
    if "MetricName" in props:
        metrics.append(props)
    return [(_resolve(m["Namespace"]), m["MetricName"],
             frozenset((d["Name"], _resolve(d["Value"])) for d in m.get("Dimensions", []))) for m in metrics]


def _dashboard() -> dict:
    """Return the dashboard body as data: its ``!Sub`` rendered with parameter defaults and the stand-ins."""
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    defaults = {name: str(p.get("Default")) for name, p in TEMPLATE_DATA["Parameters"].items()}
    values = {**defaults, "MetricsNamespace": NAMESPACE, "ServiceName": SERVICE}
    return json.loads(re.sub(r"\$\{([\w:.]+)\}", lambda m: values.get(m[1], f"<{m[1]}>"), body))


def _dashboard_metrics() -> list[tuple[str, str, frozenset]]:
    """Return (namespace, metric, dimensions) of every graphed metric; a SEARCH names its dimension keys only."""
    found = []
    for widget in _dashboard()["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if isinstance(row[0], dict):  # [{"expression": "SEARCH('{Namespace,key,...} MetricName=\"m\" ...')"}]
                schema, name = re.search(r"\{([^}]+)\} MetricName=\"(\w+)\"", row[0]["expression"]).groups()
                namespace, *keys = schema.split(",")
                found.append((namespace, name, frozenset((k, None) for k in keys)))
                continue
            namespace, name, *pairs = [part for part in row if not isinstance(part, dict)]
            found.append((namespace, name, frozenset(zip(pairs[::2], pairs[1::2]))))
    return found


def _alarms() -> dict[str, dict]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_the_functions_emit_into_the_namespace_and_service_the_dashboard_reads():
    env = TEMPLATE_DATA["Globals"]["Function"]["Environment"]["Variables"]
    assert env["PAMPAX_OBSERVABILITY_NAMESPACE"] == env["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert env["PAMPAX_OBSERVABILITY_SERVICE"] == env["POWERTOOLS_SERVICE_NAME"] == {"Ref": "ServiceName"}


def test_alarms_and_dashboard_reference_only_metrics_that_are_emitted():
    # GIVEN every metric Telemetry emits, with its full dimension set
    emitted = _emitted()
    schemas = {(ns, name, frozenset((k, None) for k, _ in dims)) for ns, name, dims in emitted}
    # WHEN the alarms and the dashboard are read
    alarm_refs = [ref for alarm in _alarms().values() for ref in _alarm_metrics(alarm)]
    dashboard_refs = _dashboard_metrics()
    # THEN each pampax metric they name exists with exactly those dimensions (CloudWatch matches the full set)
    ours = [ref for ref in alarm_refs + dashboard_refs if ref[0] == NAMESPACE]
    assert ours
    for ref in ours:
        assert ref in emitted or ref in schemas, f"not emitted by pampax.observability: {ref}"
    # AND the dashboard shows every metric pampax emits
    assert {name for ns, name, _ in dashboard_refs if ns == NAMESPACE} == set(METRIC_NAMES)


def test_latency_alarms_watch_p95_of_their_operation():
    alarms = _alarms()
    for op, alarm in (("search", "SearchLatencyAlarm"), ("assemble", "AssembleLatencyAlarm")):
        props = alarms[alarm]["Properties"]
        assert _alarm_metrics(alarms[alarm]) == [
            (NAMESPACE, LATENCY_METRICS[op], frozenset({("op", op), ("service", SERVICE)}))]
        assert props["ExtendedStatistic"] == "p95" and props["ComparisonOperator"] == "GreaterThanThreshold"
        assert TEMPLATE_DATA["Parameters"][props["Threshold"]["Ref"]]["Type"] == "Number"


def test_the_error_rate_alarm_counts_every_server_side_kind():
    # GIVEN the kinds that fail a request on the server's side; cache_unavailable degrades instead
    server_kinds = {k for k, spec in ERROR_TABLE.items() if spec.http_status >= 500} - {"cache_unavailable"}
    # WHEN the error-rate alarm's metrics are read
    alarm = _alarms()["ErrorRateAlarm"]
    refs = _alarm_metrics(alarm)
    # THEN it sums errors_total over exactly those kinds, per search and assemble request
    counted = {dict(dims)["kind"] for _, name, dims in refs if name == "errors_total"}
    assert counted == server_kinds
    assert {name for _, name, _ in refs if name != "errors_total"} == {LATENCY_METRICS["search"], LATENCY_METRICS["assemble"]}
    # AND every metric it reads takes part in the expression it alarms on
    queries = alarm["Properties"]["Metrics"]
    expressions = " ".join(q["Expression"] for q in queries if "Expression" in q)
    assert all(re.search(rf"\b{q['Id']}\b", expressions) for q in queries if "MetricStat" in q)
    assert [q["Id"] for q in queries if q["ReturnData"]] == ["rate"]


def test_every_alarm_notifies_the_optional_topic_and_the_dead_letter_queue_is_watched():
    condition = TEMPLATE_DATA["Conditions"]["HasAlarmTopic"]
    assert condition == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    assert TEMPLATE_DATA["Parameters"]["AlarmTopicArn"]["Default"] == ""
    for name, alarm in _alarms().items():
        for actions in ("AlarmActions", "OKActions"):
            assert alarm["Properties"][actions] == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}],
                                                              {"Ref": "AWS::NoValue"}]}, name
    dlq = _alarms()["IndexDeadLetterAlarm"]["Properties"]
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": "IndexDeadLetterQueue.QueueName"}}]
    assert (dlq["Threshold"], dlq["ComparisonOperator"]) == (0, "GreaterThanThreshold")
