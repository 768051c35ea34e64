"""The project's own checks of template.yaml and templates/source-account.yaml: what cfn-lint
and checkov do not cover on them (checkov has no Firehose, Glue, Athena-projection, CloudWatch
Logs destination or dashboard checks for CloudFormation).

A template is parsed with the CloudFormation short-form tags (!Ref, !Sub, !If, ...) turned
into their long form, then resolved for each combination of the parameters that switch
branches (OutputLayout, DynamicPartitioning, SourceKinesisStreamArn, SourceAccountIds, ...), so
every branch that a deployment can take is asserted, not only the defaults. Strings that
CloudFormation assembles at deploy time (policy documents, selection criteria, the dashboard
body, the function's EXCLUDE_LOG_GROUPS) are evaluated here with example pseudo parameters and
then parsed, so what is asserted is the text CloudFormation would hand to the service.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import os
import re
from pathlib import Path

import pytest
import yaml

import variants  # tests/template/variants.py: the copies run.sh lints

# TEMPLATE_UNDER_TEST / SOURCE_TEMPLATE_UNDER_TEST let a mutated copy be checked (to see that
# these tests catch mistakes).
REPO = Path(__file__).resolve().parents[2]
TEMPLATE = Path(os.environ.get("TEMPLATE_UNDER_TEST") or REPO / "template.yaml")
SOURCE_TEMPLATE = Path(os.environ.get("SOURCE_TEMPLATE_UNDER_TEST") or REPO / "templates" / "source-account.yaml")

# The line the function writes: {"timestamp":..,"id":..,"message":..,"log_group":..,
# "log_stream":..,"owner":..} + optional "extracted_fields" (object of strings) and "time".
LINE_SCHEMA = [
    ("timestamp", "bigint"),
    ("id", "string"),
    ("message", "string"),
    ("log_group", "string"),
    ("log_stream", "string"),
    ("owner", "string"),
    ("extracted_fields", "map<string,string>"),
    ("time", "string"),
    ("source_account", "string"),
    ("source_region", "string"),
    ("source_log_group", "string"),
]

FUNCTION_ENV = {
    "INFLATE_CAP",
    "RESPONSE_BUDGET",
    "REINGEST_MAX_ATTEMPTS",
    "OUTPUT_FORMAT",
    "MERGE_JSON_MESSAGE",
    "MERGE_COLUMNS",
    "ADD_TIME",
    "PARTITION_KEYS",
    "MASK_PAN",
    "MASK_PAN_KEEP",
    "RUST_LOG",
    "EXCLUDE_LOG_GROUPS",
    "DROP_MESSAGES",
    "KEEP_MESSAGES",
    "EVENT_FILTERS",
    "LAMBDA_FORMAT",
    "STATIC_FIELDS",
    "LOG_GROUP_TAGS",
}

# Names of the EMF metrics the function writes (src/metrics.rs), namespace and dimensions.
EMF_NAMESPACE = "CwlFirehose"
EMF_METRICS = {
    "RecordsIn", "RecordsOk", "RecordsDropped", "RecordsProcessingFailed", "RecordsExcluded",
    "EventsOut", "BytesIn", "BytesOut", "ResponseBytes", "RecordsReingested", "RecordsSplit",
    "PartsReingested", "ReingestRetries", "ReingestFailed", "MaskedPans", "Duration",
    "MergedKeysRenamed", "MergedValuesRejected", "EventsFiltered",
}

DYNAMIC_PREFIX = (
    "logs/log_group=!{partitionKeyFromLambda:log_group}/year=!{partitionKeyFromLambda:year}/"
    "month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:day}/"
    "hour=!{partitionKeyFromLambda:hour}/"
)
# Central stacks: the sending account first (the function returns it as partition key "owner").
OWNER_PREFIX = "logs/owner=!{partitionKeyFromLambda:owner}/" + DYNAMIC_PREFIX[len("logs/"):]

FIREHOSE_WAIT_SECONDS = 300
KINESIS_ARN = "arn:aws:kinesis:xx-test-1:000000000000:stream/source"

# Example values of CloudFormation's pseudo parameters (an invented Region, so that a region
# name hard-coded in a template cannot pass by accident).
PSEUDO = {
    "AWS::AccountId": "999999999999",
    "AWS::Region": "xx-test-1",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "central-prod",
}
SOURCE_ACCOUNTS = "111111111111,222222222222"
ORGANIZATION = "o-abcdefghij"


# ----------------------------------------------------------------------------- YAML loading
class CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form intrinsic functions."""


def _construct_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> dict:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass


TPL = load_template()
RAW = TEMPLATE.read_text(encoding="utf-8")
SRC = load_template(SOURCE_TEMPLATE)
SRC_RAW = SOURCE_TEMPLATE.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- resolving
NOVALUE = object()


def param_values(overrides: dict | None = None, tpl: dict = TPL) -> dict:
    values = dict(PSEUDO)
    values.update({k: str(v.get("Default", "")) for k, v in tpl["Parameters"].items()})
    for k, v in (overrides or {}).items():
        assert k in tpl["Parameters"] or k in PSEUDO, f"no parameter {k}"
        values[k] = v
    return values


def allowed(tpl: dict, name: str, value: str) -> bool:
    """Whether CloudFormation would accept the value for the String parameter (AllowedPattern
    is a whole-value match; the patterns used here mean the same in Java and Python)."""
    p = tpl["Parameters"][name]
    if "MaxLength" in p and len(value) > int(p["MaxLength"]):
        return False
    if "AllowedValues" in p and value not in p["AllowedValues"]:
        return False
    return "AllowedPattern" not in p or re.fullmatch(p["AllowedPattern"], value) is not None


def eval_condition(expr, conditions: dict, params: dict) -> bool:
    if isinstance(expr, dict) and len(expr) == 1:
        (key, arg), = expr.items()
        if key == "Condition":
            return eval_condition(conditions[arg], conditions, params)
        if key == "Fn::Equals":
            a, b = (scalar_value(x, params) for x in arg)
            return str(a) == str(b)
        if key == "Fn::Not":
            return not eval_condition(arg[0], conditions, params)
        if key == "Fn::And":
            return all(eval_condition(x, conditions, params) for x in arg)
        if key == "Fn::Or":
            return any(eval_condition(x, conditions, params) for x in arg)
    raise AssertionError(f"unsupported condition expression {expr!r}")


def scalar_value(x, params: dict):
    """A value in a condition: a literal, a Ref, or the string functions CloudFormation allows
    there (Fn::Sub of parameters, Fn::Split, Fn::Select)."""
    if isinstance(x, dict) and "Ref" in x:
        return params[x["Ref"]]
    if isinstance(x, dict) and "Fn::Sub" in x:
        text = x["Fn::Sub"]
        assert isinstance(text, str), x
        return re.sub(r"\$\{([^}!]+)\}", lambda m: params[m[1]], text)
    if isinstance(x, dict) and "Fn::Split" in x:
        sep, source = x["Fn::Split"]
        return scalar_value(source, params).split(sep)
    if isinstance(x, dict) and "Fn::Select" in x:
        index, items = x["Fn::Select"]
        return scalar_value(items, params)[int(index)]
    return x


class Scenario:
    """The template as CloudFormation would see it for one set of parameter values
    (conditions evaluated, Fn::If branches chosen, AWS::NoValue removed; other intrinsics kept).
    eval() then resolves the string functions the way CloudFormation does at deploy time."""

    def __init__(self, overrides: dict | None = None, tpl: dict = TPL):
        self.tpl = tpl
        self.params = param_values(overrides, tpl)
        for name, value in self.params.items():
            if name in tpl["Parameters"] and tpl["Parameters"][name]["Type"] == "String":
                assert allowed(tpl, name, value), f"{name}={value!r} is not an allowed value"
        conds = tpl.get("Conditions", {})
        self.conditions = {name: eval_condition(expr, conds, self.params) for name, expr in conds.items()}
        self.resources = {}
        for name, res in tpl["Resources"].items():
            if "Condition" in res and not self.conditions[res["Condition"]]:
                continue
            self.resources[name] = self.resolve(res)
        self.outputs = {
            name: self.resolve(out)
            for name, out in tpl.get("Outputs", {}).items()
            if "Condition" not in out or self.conditions[out["Condition"]]
        }

    def eval(self, node) -> str | list:
        """A string (or list of strings) CloudFormation would build from node: parameters and
        pseudo parameters from this scenario; Ref of a resource = its name where the template
        sets one (log group, stream, destination), else "<Logical>"; Fn::GetAtt = "<Logical.Attr>"."""
        if isinstance(node, bool):
            return str(node).lower()
        if isinstance(node, (str, int, float)):
            return str(node)
        if isinstance(node, list):
            return [self.eval(x) for x in node]
        (key, arg), = node.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            return "<%s.%s>" % tuple(arg)
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            values = {k: self.eval(v) for k, v in variables.items()}

            def one(m):
                literal, name = m[1], m[2]
                if literal:
                    return "${" + name + "}"
                if name in values:
                    return values[name]
                if "." in name:
                    return "<%s>" % name
                return self.ref(name)

            return re.sub(r"\$\{(!?)([^}]+)\}", one, text)
        if key == "Fn::Join":
            sep, items = arg
            items = self.eval(items)
            assert isinstance(items, list) and all(isinstance(i, str) for i in items), items
            return sep.join(items)
        if key == "Fn::Split":
            sep, source = arg
            return self.eval(source).split(sep)
        if key == "Fn::Select":
            index, items = arg
            return self.eval(items)[int(index)]
        if key == "Fn::FindInMap":
            name, top, second = (self.eval(x) for x in arg)
            return self.eval(self.tpl["Mappings"][name][top][second])
        raise AssertionError(f"unsupported intrinsic {key}")

    def ref(self, name: str) -> str:
        if name in self.params:
            return self.params[name]
        res = self.resources[name]
        named_by = {
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
            "AWS::Logs::Destination": "DestinationName",
            "AWS::CloudWatch::Dashboard": "DashboardName",
        }.get(res["Type"])
        if named_by:
            return self.eval(res["Properties"][named_by])
        return "<%s>" % name

    def resolve(self, node):
        if isinstance(node, dict):
            if len(node) == 1 and "Fn::If" in node:
                cond, yes, no = node["Fn::If"]
                return self.resolve(yes if self.conditions[cond] else no)
            if node == {"Ref": "AWS::NoValue"}:
                return NOVALUE
            out = {}
            for k, v in node.items():
                r = self.resolve(v)
                if r is not NOVALUE:
                    out[k] = r
            return out
        if isinstance(node, list):
            return [r for r in (self.resolve(x) for x in node) if r is not NOVALUE]
        return node

    def of_type(self, rtype: str) -> dict:
        return {n: r for n, r in self.resources.items() if r["Type"] == rtype}

    def transform_function(self) -> tuple[str, dict]:
        """The transformation function (the other one is DigestFunction)."""
        return "LogsProcessorFunction", self.resources["LogsProcessorFunction"]

    def only(self, rtype: str) -> tuple[str, dict]:
        found = self.of_type(rtype)
        assert len(found) == 1, f"expected one {rtype}, found {sorted(found)}"
        return next(iter(found.items()))

    @property
    def stream(self) -> dict:
        return self.only("AWS::KinesisFirehose::DeliveryStream")[1]["Properties"]

    @property
    def s3dest(self) -> dict:
        return self.stream["ExtendedS3DestinationConfiguration"]

    @property
    def table(self) -> dict:
        return self.only("AWS::Glue::Table")[1]["Properties"]["TableInput"]


def numeric_param_bounds(value) -> tuple[float, float, float]:
    """(default, min, max) of a property that is a literal or a !Ref to a Number parameter."""
    if isinstance(value, dict) and "Ref" in value:
        p = TPL["Parameters"][value["Ref"]]
        assert p["Type"] == "Number", f"{value['Ref']} should be a Number parameter"
        assert "MinValue" in p and "MaxValue" in p, f"{value['Ref']} needs MinValue and MaxValue"
        return float(p["Default"]), float(p["MinValue"]), float(p["MaxValue"])
    v = float(value)
    return v, v, v


SWITCHES = {
    "OutputLayout": ["json", "parquet"],
    "DynamicPartitioning": ["false", "true"],
    "SourceKinesisStreamArn": ["", KINESIS_ARN],
    # A central stack (a CloudWatch Logs destination) changes the S3 key and the table.
    "SourceAccountIds": ["", SOURCE_ACCOUNTS],
}
ALL_SCENARIOS = [dict(zip(SWITCHES, combo)) for combo in itertools.product(*SWITCHES.values())]


def scenario_id(o: dict) -> str:
    return "-".join(
        [o["OutputLayout"], "dynamic" if o["DynamicPartitioning"] == "true" else "time",
         "kinesis" if o["SourceKinesisStreamArn"] else "directput",
         "central" if o["SourceAccountIds"] else "single"]
    )


@pytest.fixture(params=ALL_SCENARIOS, ids=scenario_id)
def sc(request) -> Scenario:
    return Scenario(request.param)


def flatten_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from flatten_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from flatten_strings(v)


def statements(policy_document: dict) -> list[dict]:
    st = policy_document["Statement"]
    return st if isinstance(st, list) else [st]


def as_list(x):
    return x if isinstance(x, list) else [x]


def stream_name_expr(s: Scenario):
    return s.stream["DeliveryStreamName"]


# ----------------------------------------------------------------------------- header / function
def test_sam_header():
    assert TPL["AWSTemplateFormatVersion"] == "2010-09-09"
    assert TPL["Transform"] == "AWS::Serverless-2016-10-31"


def test_function_build_and_runtime():
    s = Scenario()
    name, fn = s.transform_function()
    p = fn["Properties"]
    assert p["Runtime"] == "provided.al2023"
    assert p["Architectures"] == [{"Ref": "Architecture"}]
    arch = TPL["Parameters"]["Architecture"]
    assert arch["Default"] == "arm64"
    assert arch["AllowedValues"] == ["arm64", "x86_64"]
    assert p["Handler"] == "bootstrap"
    assert p["CodeUri"] == "."
    assert fn["Metadata"]["BuildMethod"] == "rust-cargolambda"
    assert fn["Metadata"]["BuildProperties"] == {"Binary": "cwl-firehose-lambda"}
    mem_default, _, _ = numeric_param_bounds(p["MemorySize"])
    assert mem_default == 256


def test_function_timeout_below_firehose_wait():
    fn = Scenario().transform_function()[1]["Properties"]
    default, lo, hi = numeric_param_bounds(fn["Timeout"])
    assert default == 120
    assert lo >= 1
    # Every value the parameter accepts stays under Firehose's 5-minute wait.
    assert hi < FIREHOSE_WAIT_SECONDS


def test_function_no_reserved_concurrency_by_default():
    fn = Scenario().transform_function()[1]["Properties"]
    assert "ReservedConcurrentExecutions" not in fn
    capped = Scenario({"ReservedConcurrency": "50"}).transform_function()[1]["Properties"]
    assert capped["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}


@pytest.mark.parametrize("dynamic", ["false", "true"])
def test_function_environment(dynamic):
    fn = Scenario({"DynamicPartitioning": dynamic}).transform_function()[1]["Properties"]
    env = fn["Environment"]["Variables"]
    assert set(env) == FUNCTION_ENV
    for key, value in env.items():
        if key == "EXCLUDE_LOG_GROUPS":
            continue  # built from names, see test_function_excludes_the_pipelines_own_log_groups
        # Every value is a string once deployed: a literal string or a parameter reference.
        assert isinstance(value, str) or (isinstance(value, dict) and set(value) == {"Ref"}), key
    assert env["PARTITION_KEYS"] == {"Ref": "DynamicPartitioning"}
    assert env["OUTPUT_FORMAT"] == {"Ref": "OutputFormat"}
    assert env["MASK_PAN"] == {"Ref": "MaskPan"}
    params = TPL["Parameters"]
    assert params["InflateCap"]["Default"] == 16777216
    assert params["ResponseBudget"]["Default"] == 6000000
    assert params["ReingestMaxAttempts"]["Default"] == 0  # no cap: retry until the deadline
    assert params["OutputFormat"]["AllowedValues"] == ["json", "message"]
    assert params["MaskPanKeep"]["AllowedValues"] == ["first6last4", "last4"]
    assert params["MaskPan"]["Default"] == "true"
    assert fn["KmsKeyArn"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}


def test_redaction_and_card_tokens_are_off_unless_asked():
    params = TPL["Parameters"]
    assert params["Redact"]["Default"] == "" and params["PanTokenSecretArn"]["Default"] == ""
    assert not allowed(TPL, "Redact", "emails") and allowed(TPL, "Redact", "email,ipv4")
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pan-key-AbC123"
    s = Scenario({"Redact": "all", "PanTokenSecretArn": arn})
    env = s.transform_function()[1]["Properties"]["Environment"]["Variables"]
    assert env["REDACT"] == {"Ref": "Redact"}
    assert env["PAN_TOKEN_SECRET_ARN"] == {"Ref": "PanTokenSecretArn"}
    rules = Scenario({"RedactRulesFile": "/opt/redact-rules.txt"}).transform_function()[1]
    assert rules["Properties"]["Environment"]["Variables"]["REDACT_RULES_FILE"] == {
        "Ref": "RedactRulesFile"}
    # The function may read that one secret, and nothing else of Secrets Manager.
    reads = [st for st in function_policy_statements(s)
             if "secretsmanager" in str(st.get("Action"))]
    assert [(r["Action"], r["Resource"]) for r in reads] == [
        ("secretsmanager:GetSecretValue", {"Ref": "PanTokenSecretArn"})]
    assert not [st for st in function_policy_statements(Scenario())
                if "secretsmanager" in str(st.get("Action"))]


# ----------------------------------------------------------------------------- IAM
def function_policy_statements(s: Scenario) -> list[dict]:
    fn = s.transform_function()[1]["Properties"]
    role_ref = fn["Role"]
    assert role_ref["Fn::GetAtt"][1] == "Arn"
    role_name = role_ref["Fn::GetAtt"][0]
    role = s.resources[role_name]["Properties"]
    assert "ManagedPolicyArns" not in role, "the function role should carry only its own policy"
    out = []
    for pol in role.get("Policies", []):
        out += statements(pol["PolicyDocument"])
    for res in s.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_name} in res["Properties"]["Roles"]:
            out += statements(res["Properties"]["PolicyDocument"])
    return out


def test_function_can_put_record_batch_only_into_its_own_stream(sc):
    sts = function_policy_statements(sc)
    fh = [st for st in sts if any(a.startswith("firehose:") for a in as_list(st["Action"]))]
    assert len(fh) == 1
    st = fh[0]
    assert st["Effect"] == "Allow"
    assert as_list(st["Action"]) == ["firehose:PutRecordBatch"]
    res = as_list(st["Resource"])
    assert len(res) == 1 and res[0] != "*"
    # Built with !Sub from the stream's name (a !GetAtt on the stream would be circular).
    tmpl, variables = res[0]["Fn::Sub"]
    assert tmpl == "arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/${Name}"
    assert variables["Name"] == stream_name_expr(sc)


def test_function_kinesis_put_records_only_with_a_kinesis_source(sc):
    sts = function_policy_statements(sc)
    kin = [st for st in sts if any(a.startswith("kinesis:") for a in as_list(st["Action"]))]
    if sc.params["SourceKinesisStreamArn"]:
        assert len(kin) == 1
        assert as_list(kin[0]["Action"]) == ["kinesis:PutRecords"]
        assert kin[0]["Resource"] == {"Ref": "SourceKinesisStreamArn"}
    else:
        assert kin == []


def test_function_wildcard_resources_only_for_xray(sc):
    for st in function_policy_statements(sc):
        if "*" in as_list(st["Resource"]):
            assert all(a.startswith("xray:") for a in as_list(st["Action"])), st


def test_no_wildcard_actions_in_iam_policies(sc):
    for name, res in sc.resources.items():
        docs = []
        if res["Type"] == "AWS::IAM::Policy":
            docs.append(res["Properties"]["PolicyDocument"])
        if res["Type"] == "AWS::IAM::Role":
            docs += [p["PolicyDocument"] for p in res["Properties"].get("Policies", [])]
        for doc in docs:
            for st in statements(doc):
                for action in as_list(st["Action"]):
                    assert "*" not in action, f"{name}: wildcard action {action}"


def test_log_group_arns_are_not_built_from_getatt(sc):
    # !GetAtt LogGroup.Arn ends in ":*"; appending ":log-stream:*" to it yields an ARN that
    # matches nothing.
    groups = set(sc.of_type("AWS::Logs::LogGroup"))
    for name, res in sc.resources.items():
        for text in flatten_strings(res.get("Properties", {})):
            for g in groups:
                assert "${%s.Arn}:" % g not in text, f"{name}: {text}"


def test_firehose_role_least_privilege(sc):
    pol = sc.resources["FirehosePolicy"]["Properties"]
    assert pol["Roles"] == [{"Ref": "FirehoseRole"}]
    sts = statements(pol["PolicyDocument"])
    actions = {a for st in sts for a in as_list(st["Action"])}
    assert {"s3:PutObject", "kms:GenerateDataKey", "lambda:InvokeFunction", "logs:PutLogEvents"} <= actions
    for st in sts:
        assert "*" not in as_list(st["Resource"]), st
    glue = [st for st in sts if any(a.startswith("glue:") for a in as_list(st["Action"]))]
    if sc.params["OutputLayout"] == "parquet":
        assert len(glue) == 1
        assert all(a.startswith("glue:GetTable") for a in as_list(glue[0]["Action"]))
    else:
        assert glue == []
    invoke = next(st for st in sts if "lambda:InvokeFunction" in as_list(st["Action"]))
    assert {"Fn::GetAtt": ["LogsProcessorFunction", "Arn"]} in as_list(invoke["Resource"])


@pytest.mark.parametrize("central", [False, True])
def test_roles_trust_one_service_each(central):
    s = Scenario({"SourceAccountIds": SOURCE_ACCOUNTS} if central else {})
    expected = {
        "FunctionRole": "lambda.${AWS::URLSuffix}",
        "FirehoseRole": "firehose.${AWS::URLSuffix}",
        "SubscriptionRole": "logs.${AWS::URLSuffix}",
        "DigestFunctionRole": "lambda.${AWS::URLSuffix}",
        "ReplayFunctionRole": "lambda.${AWS::URLSuffix}",
    }
    if central:
        expected["LogsDestinationRole"] = "logs.${AWS::URLSuffix}"
    assert set(s.of_type("AWS::IAM::Role")) == set(expected)
    for name, service in expected.items():
        (st,) = statements(s.resources[name]["Properties"]["AssumeRolePolicyDocument"])
        assert st["Principal"] == {"Service": {"Fn::Sub": service}}
        assert st["Condition"], f"{name} trust policy needs a confused-deputy condition"


# ----------------------------------------------------------------------------- delivery stream
def test_delivery_stream_encryption_on(sc):
    stream = sc.stream
    if sc.params["SourceKinesisStreamArn"]:
        # Firehose refuses SSE on a Kinesis source: the data stream's own encryption applies.
        assert stream["DeliveryStreamType"] == "KinesisStreamAsSource"
        assert "DeliveryStreamEncryptionConfigurationInput" not in stream
        assert stream["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == {"Ref": "SourceKinesisStreamArn"}
    else:
        assert stream["DeliveryStreamType"] == "DirectPut"
        enc = stream["DeliveryStreamEncryptionConfigurationInput"]
        assert enc["KeyType"] in ("CUSTOMER_MANAGED_CMK", "AWS_OWNED_CMK")
        if enc["KeyType"] == "CUSTOMER_MANAGED_CMK":
            assert enc["KeyARN"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}
    # Objects are always SSE-KMS at the destination.
    assert sc.s3dest["EncryptionConfiguration"]["KMSEncryptionConfig"]["AWSKMSKeyARN"] == {
        "Fn::GetAtt": ["LogsKey", "Arn"]
    }


def test_error_output_prefix(sc):
    prefix = sc.s3dest["ErrorOutputPrefix"]
    assert "!{firehose:error-output-type}" in prefix
    assert prefix.startswith("processing-failed/")
    assert prefix.endswith("/")
    # The error output must stay outside the table's location.
    assert not prefix.startswith("logs/")


def test_lambda_processor(sc):
    proc = sc.s3dest["ProcessingConfiguration"]
    assert proc["Enabled"] is True
    (p,) = proc["Processors"]
    assert p["Type"] == "Lambda"
    params = {x["ParameterName"]: x["ParameterValue"] for x in p["Parameters"]}
    assert params["LambdaArn"] == {"Fn::GetAtt": ["LogsProcessorFunction", "Arn"]}
    assert numeric_param_bounds(params["BufferSizeInMBs"]) == (1, 0.2, 3)
    assert numeric_param_bounds(params["BufferIntervalInSeconds"]) == (60, 0, 900)
    default_retries, lo, hi = numeric_param_bounds(params["NumberOfRetries"])
    assert default_retries == 3 and lo >= 0 and hi <= 300


def test_cloudwatch_logging_options(sc):
    cw = sc.s3dest["CloudWatchLoggingOptions"]
    assert cw["Enabled"] is True
    assert cw["LogGroupName"] == {"Ref": "FirehoseLogGroup"}
    assert cw["LogStreamName"] == {"Ref": "FirehoseLogStream"}


@pytest.mark.parametrize(
    "overrides", [o for o in ALL_SCENARIOS if o["OutputLayout"] == "json"], ids=scenario_id
)
def test_output_layout_json(overrides):
    sc = Scenario(overrides)
    d = sc.s3dest
    assert d["CompressionFormat"] == "GZIP"
    assert d["FileExtension"] == ".json.gz"
    assert "DataFormatConversionConfiguration" not in d


@pytest.mark.parametrize(
    "overrides", [o for o in ALL_SCENARIOS if o["OutputLayout"] == "parquet"], ids=scenario_id
)
def test_output_layout_parquet(overrides):
    sc = Scenario(overrides)
    d = sc.s3dest
    assert d["CompressionFormat"] == "UNCOMPRESSED"
    _, lowest, _ = numeric_param_bounds(d["BufferingHints"]["SizeInMBs"])
    assert lowest >= 64
    conv = d["DataFormatConversionConfiguration"]
    assert conv["Enabled"] is True
    assert set(conv["InputFormatConfiguration"]["Deserializer"]) == {"OpenXJsonSerDe"}
    assert set(conv["OutputFormatConfiguration"]["Serializer"]) == {"ParquetSerDe"}
    schema = conv["SchemaConfiguration"]
    assert schema["DatabaseName"] == {"Ref": "GlueDatabase"}
    assert schema["TableName"] == {"Ref": "LogEventsTable"}
    assert schema["RoleARN"] == {"Fn::GetAtt": ["FirehoseRole", "Arn"]}
    assert sc.params["OutputFormat"] == "json"


def test_parquet_rule_requires_json_lines():
    rule = TPL["Rules"]["ParquetNeedsJsonLines"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "OutputLayout"}, "parquet"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "OutputFormat"}, "json"]}


def test_prefixes_and_dynamic_partitioning(sc):
    d = sc.s3dest
    if sc.params["DynamicPartitioning"] == "true":
        assert d["Prefix"] == (OWNER_PREFIX if sc.params["SourceAccountIds"] else DYNAMIC_PREFIX)
        assert d["DynamicPartitioningConfiguration"]["Enabled"] is True
        _, lowest, _ = numeric_param_bounds(d["BufferingHints"]["SizeInMBs"])
        assert lowest >= 64
    else:
        assert d["Prefix"] == "logs/!{timestamp:yyyy/MM/dd/HH}/"
        assert "DynamicPartitioningConfiguration" not in d
    _, interval_lo, interval_hi = numeric_param_bounds(d["BufferingHints"]["IntervalInSeconds"])
    assert 60 <= interval_lo and interval_hi <= 900


def test_stream_waits_for_policies_and_function_log_group():
    deps = set(as_list(TPL["Resources"]["DeliveryStream"]["DependsOn"]))
    assert {"FirehosePolicy", "FunctionPolicy", "FunctionLogGroup"} <= deps


# ----------------------------------------------------------------------------- S3
def bucket_policies(s: Scenario) -> dict:
    return {r["Properties"]["Bucket"]["Ref"]: r["Properties"] for r in s.of_type("AWS::S3::BucketPolicy").values()}


def test_every_bucket_private_encrypted_versioned_tls_only():
    s = Scenario()
    policies = bucket_policies(s)
    buckets = s.of_type("AWS::S3::Bucket")
    assert {"LogBucket", "AthenaResultsBucket", "AccessLogBucket"} <= set(buckets)
    for name, b in buckets.items():
        p = b["Properties"]
        assert p["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert p["VersioningConfiguration"]["Status"] == "Enabled", name
        assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        assert "BucketName" not in p, f"{name}: no hard-coded bucket names"
        deny = [
            st
            for st in statements(policies[name]["PolicyDocument"])
            if st["Effect"] == "Deny"
            and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert len(deny) == 1, f"{name}: TLS-only bucket policy missing"
        st = deny[0]
        assert st["Principal"] == "*" and st["Action"] == "s3:*"
        assert {"Fn::GetAtt": [name, "Arn"]} in st["Resource"]
        assert {"Fn::Sub": "${%s.Arn}/*" % name} in st["Resource"]


def test_log_bucket_kms_retention_and_access_logging():
    s = Scenario()
    p = s.resources["LogBucket"]["Properties"]
    (enc,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert enc["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": ["LogsKey", "Arn"]},
    }
    assert p["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogBucket"}
    (rule,) = p["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == {"Ref": "RetentionDays"}
    assert rule["Transitions"][0]["TransitionInDays"] == {"Ref": "TransitionDays"}
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == {"Ref": "NoncurrentVersionExpirationDays"}
    params = TPL["Parameters"]
    # PCI DSS 10.5.1: 12 months in total, 3 months immediately available.
    assert params["RetentionDays"]["Default"] == 365
    assert params["TransitionDays"]["Default"] == 90
    assert "ObjectLockEnabled" not in p and "ObjectLockConfiguration" not in p
    assert s.resources["LogBucket"]["DeletionPolicy"] == "Retain"


def test_object_lock_optional():
    assert TPL["Parameters"]["ObjectLockEnabled"]["Default"] == "false"
    p = Scenario({"ObjectLockEnabled": "true"}).resources["LogBucket"]["Properties"]
    assert p["ObjectLockEnabled"] is True
    retention = p["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention == {"Mode": {"Ref": "ObjectLockMode"}, "Days": {"Ref": "RetentionDays"}}


# ----------------------------------------------------------------------------- KMS / logs
def test_kms_key_rotation_and_policy():
    s = Scenario()
    key = s.resources["LogsKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    principals = [st["Principal"] for st in statements(key["KeyPolicy"])]
    assert {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}} in principals
    assert {"AWS": {"Fn::GetAtt": ["FirehoseRole", "Arn"]}} in principals
    assert {"AWS": {"Fn::GetAtt": ["FunctionRole", "Arn"]}} in principals
    assert {"Service": {"Fn::Sub": "logs.${AWS::Region}.${AWS::URLSuffix}"}} in principals
    for p in principals:
        assert p != "*" and p != {"AWS": "*"}


def test_every_log_group_has_retention_and_kms(sc):
    groups = sc.of_type("AWS::Logs::LogGroup")
    assert {"FunctionLogGroup", "FirehoseLogGroup"} <= set(groups)
    for name, g in groups.items():
        assert g["Properties"].get("RetentionInDays"), name
        assert g["Properties"].get("KmsKeyId"), name
    # The function writes into it (LoggingConfig), and it is named from the stream, not from the
    # function: the function's environment names it (EXCLUDE_LOG_GROUPS).
    fn = sc.transform_function()[1]["Properties"]
    assert fn["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionLogGroup"}}
    assert sc.eval({"Ref": "FunctionLogGroup"}) == "/aws/lambda/central-prod-transform"
    named = Scenario({**sc.params, "DeliveryStreamName": "logs.prod"})
    assert named.eval({"Ref": "FunctionLogGroup"}) == "/aws/lambda/logs.prod-transform"
    assert named.eval({"Ref": "FirehoseLogGroup"}) == "/aws/kinesisfirehose/logs.prod"


# ----------------------------------------------------------------------------- Glue / Athena
def test_glue_columns_equal_line_schema(sc):
    cols = [(c["Name"], c["Type"]) for c in sc.table["StorageDescriptor"]["Columns"]]
    assert cols == LINE_SCHEMA
    partition_cols = {c["Name"] for c in sc.table["PartitionKeys"]}
    assert not partition_cols & {c for c, _ in LINE_SCHEMA}, "partition column repeats a data column"


# MERGE_COLUMNS: the same list is the function's setting and the table's extra columns.
MERGE_COLUMNS_EXAMPLE = (
    "level:string,status:int,duration_ms:double,request_id:string,ok:boolean,at:timestamp,"
    "bytes:bigint"
)


def glue_columns(s: Scenario) -> list[tuple[str, str]]:
    return [(s.eval(c["Name"]), s.eval(c["Type"])) for c in s.table["StorageDescriptor"]["Columns"]]


@pytest.mark.parametrize("dynamic", ["false", "true"])
@pytest.mark.parametrize("layout", ["json", "parquet"])
def test_glue_table_holds_the_declared_merge_columns(layout, dynamic):
    s = Scenario({"OutputLayout": layout, "DynamicPartitioning": dynamic,
                  "MergeJsonMessage": "true", "MergeColumns": MERGE_COLUMNS_EXAMPLE})
    declared = [tuple(item.split(":")) for item in MERGE_COLUMNS_EXAMPLE.split(",")]
    assert glue_columns(s) == LINE_SCHEMA + declared
    partition_cols = {c["Name"] for c in s.table["PartitionKeys"]}
    assert not partition_cols & {n for n, _ in declared}
    env = s.transform_function()[1]["Properties"]["Environment"]["Variables"]
    assert env["MERGE_COLUMNS"] == {"Ref": "MergeColumns"}
    assert s.eval(env["MERGE_COLUMNS"]) == MERGE_COLUMNS_EXAMPLE
    if layout == "parquet":
        # Firehose converts against this very table, with the OpenX deserializer's defaults: keys
        # matched ignoring case, dots kept (the key rule in docs/schema.md relies on both).
        conv = s.s3dest["DataFormatConversionConfiguration"]
        assert conv["SchemaConfiguration"]["TableName"] == {"Ref": "LogEventsTable"}
        assert conv["InputFormatConfiguration"]["Deserializer"] == {"OpenXJsonSerDe": {}}


def test_merge_columns_all_twenty_slots():
    items = [f"c{i}:{t}" for i, t in zip(range(20), itertools.cycle(
        ["string", "bigint", "int", "double", "boolean", "timestamp"]))]
    s = Scenario({"MergeJsonMessage": "true", "MergeColumns": ",".join(items)})
    assert glue_columns(s) == LINE_SCHEMA + [tuple(i.split(":")) for i in items]
    assert not allowed(TPL, "MergeColumns", ",".join(items + ["c20:int"]))
    assert glue_columns(Scenario()) == LINE_SCHEMA


# LAMBDA_FORMAT's fields (src/lines/keys.rs LAMBDA_KEYS) and their types (src/lines/lambda.rs).
LAMBDA_COLUMNS = [
    ("level", "string"), ("request_id", "string"), ("platform", "string"),
    ("duration_ms", "double"), ("billed_duration_ms", "bigint"), ("memory_size_mb", "bigint"),
    ("max_memory_used_mb", "bigint"), ("init_duration_ms", "double"),
]


def test_lambda_format_and_static_fields_are_columns():
    """LambdaFormat declares its fields, StaticFields one string column per name (at most 5),
    after the line schema; both reach the function as its variables, empty when off."""
    static = "env=prod,pci_scope=cde,team=pay"
    s = Scenario({"LambdaFormat": "true", "StaticFields": static})
    statics = [(item.split("=")[0], "string") for item in static.split(",")]
    assert glue_columns(s) == LINE_SCHEMA + LAMBDA_COLUMNS + statics
    env = s.transform_function()[1]["Properties"]["Environment"]["Variables"]
    assert s.eval(env["LAMBDA_FORMAT"]) == "true"
    assert s.eval(env["STATIC_FIELDS"]) == static
    off = Scenario()
    env = off.transform_function()[1]["Properties"]["Environment"]["Variables"]
    for var in ["LAMBDA_FORMAT", "STATIC_FIELDS", "DROP_MESSAGES", "KEEP_MESSAGES", "EVENT_FILTERS"]:
        assert off.eval(env[var]) in ("", "false"), var
    five = ",".join(f"f{i}=v" for i in range(5))
    assert glue_columns(Scenario({"StaticFields": five})) == LINE_SCHEMA + [
        (f"f{i}", "string") for i in range(5)]


@pytest.mark.parametrize("value,ok", [
    ("", True),
    ("env=prod", True),
    ("env=prod,pci_scope=cde", True),
    ("note=a b=c", True),
    ("env=", True),
    ("Env=prod", False),
    ("env", False),
    ("env=a,env=b", False),
    ("owner=x", False),
    ("source_account=x", False),
    ("year=2025", False),
    (",".join(f"f{i}=v" for i in range(6)), False),
])
def test_static_fields_pattern(value, ok):
    """What the parameter takes, the function's STATIC_FIELDS parser takes too
    (src/lines/static_fields.rs: MergeColumns' names, none of the table's own columns)."""
    assert allowed(TPL, "StaticFields", value) is ok


def test_log_group_tags_are_columns_and_readable_only_when_on():
    """LogGroupTags declares one string column per field (at most 5, after StaticFields'),
    reaches the function as LOG_GROUP_TAGS, and only then may the function read this
    account's log groups' tags."""
    tags = "team,cost_center=CostCenter"
    s = Scenario({"StaticFields": "env=prod", "LogGroupTags": tags})
    assert glue_columns(s) == LINE_SCHEMA + [
        ("env", "string"), ("team", "string"), ("cost_center", "string")]
    env = s.transform_function()[1]["Properties"]["Environment"]["Variables"]
    assert s.eval(env["LOG_GROUP_TAGS"]) == tags
    read = [st for st in function_policy_statements(s)
            if "logs:ListTagsForResource" in as_list(st["Action"])]
    assert len(read) == 1 and as_list(read[0]["Action"]) == ["logs:ListTagsForResource"]
    assert read[0]["Resource"] == {"Fn::Sub": (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")}
    off = Scenario()
    env = off.transform_function()[1]["Properties"]["Environment"]["Variables"]
    assert off.eval(env["LOG_GROUP_TAGS"]) == ""
    assert not [st for st in function_policy_statements(off)
                if "logs:ListTagsForResource" in as_list(st["Action"])]
    five = ",".join(f"t{i}" for i in range(5))
    assert glue_columns(Scenario({"LogGroupTags": five})) == LINE_SCHEMA + [
        (f"t{i}", "string") for i in range(5)]


@pytest.mark.parametrize("value,ok", [
    ("", True),
    ("team", True),
    ("team,env", True),
    ("cost_center=CostCenter,team=aws:team/x", True),
    ("Team", False),
    ("team=", False),
    ("team,team=Team", False),
    ("team=A,team", False),
    ("owner", False),
    ("log_group=x", False),
    ("year", False),
    ("team=a,b", True),
    (",".join(f"t{i}" for i in range(6)), False),
])
def test_log_group_tags_pattern(value, ok):
    """What the parameter takes, the function's LOG_GROUP_TAGS parser takes too
    (src/lines/group_tags.rs)."""
    assert allowed(TPL, "LogGroupTags", value) is ok


@pytest.mark.parametrize("emit", ["true", "false"])
def test_subscription_filter_emits_system_fields_when_asked(emit):
    s = Scenario({"SourceLogGroupName": "/ecs/api", "EmitSystemFields": emit})
    props = s.resolve(s.resources["SubscriptionFilter"]["Properties"])
    if emit == "true":
        assert props["EmitSystemFields"] == ["@aws.account", "@aws.region", "@source.log"]
    else:
        assert "EmitSystemFields" not in props


@pytest.mark.parametrize("value,ok", [
    ("", True),
    ("level:string", True),
    ("a:int,ab:int", True),
    ("ab:int,b:int", True),
    ("_x:timestamp,msg_message:string,time_ms:bigint", True),
    ("Level:string", False),             # Glue and Athena names are lowercase
    ("level", False),
    ("level:varchar", False),
    ("a.b:int", False),
    ("1a:int", False),
    ("a:int,", False),
    ("a :int", False),
    ("a:int,a:bigint", False),           # twice
    ("a:int,b:int,a:int", False),
    ("message:string", False),           # the table's own columns
    ("x:int,time:timestamp", False),
    ("year:int", False),                 # partition columns
    ("dt:string", False),
    ("partition_log_group:string", False),
    ("x" * 255 + ":int", True),
    ("x" * 256 + ":int", False),
])
def test_merge_columns_pattern(value, ok):
    """What the parameter takes is what the function's MERGE_COLUMNS parser takes
    (src/lines/columns.rs: the same name rule, reserved names and types)."""
    assert allowed(TPL, "MergeColumns", value) is ok


def test_merge_columns_rule_requires_merging():
    rule = TPL["Rules"]["MergeColumnsNeedMerging"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "MergeColumns"}, ""]}]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "MergeJsonMessage"}, "true"]}


def test_function_environment_fits_lambdas_4_kb():
    """Lambda's limit is 4 KB for all variables: the largest MergeColumns, ExcludeLogGroups and
    event filters the parameters take, the longest stream name, RUST_LOG of 100 characters."""
    names = ",".join(("/" + "x" * 137 + str(i)) for i in range(7))
    assert allowed(TPL, "ExcludeLogGroups", names) and len(names) > 970
    columns = ",".join(f"{'c' * 45}{i:02}:timestamp" for i in range(20))[:1000]
    columns = columns[:columns.rfind(",")]
    assert allowed(TPL, "MergeColumns", columns) and len(columns) > 900
    redact = ",".join(["aws_access_key_id", "aws_secret_key", "authorization", "jwt",
                       "private_key", "url_credentials", "secret_value", "email", "ipv4", "ipv6",
                       "phone", "my_number"])
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + "k" * 200
    secret = secret[:200]
    assert allowed(TPL, "Redact", redact) and allowed(TPL, "PanTokenSecretArn", secret)
    s = Scenario({"ExcludeLogGroups": names, "DeliveryStreamName": "s" * 64,
                  "MergeJsonMessage": "true", "MergeColumns": columns, "RustLog": "r" * 100,
                  "DropMessages": "d" * 100, "KeepMessages": "k" * 100, "EventFilters": "e" * 200,
                  "LambdaFormat": "false", "StaticFields": ",".join(f"f{i}={'v' * 20}" for i in range(5)),
                  "Redact": redact, "PanTokenSecretArn": secret,
                  "RedactRulesFile": "/opt/" + "r" * 123,
                  "LogGroupTags": ",".join(f"t{i}={'K' * 16}" for i in range(5))})
    assert allowed(TPL, "LogGroupTags", env_value := s.params["LogGroupTags"]) and len(env_value) > 90
    env = s.transform_function()[1]["Properties"]["Environment"]["Variables"]
    size = sum(len(k) + len(s.eval(v)) for k, v in env.items())
    assert size < 4096, size


def test_glue_serde_per_layout(sc):
    sd = sc.table["StorageDescriptor"]
    serde = sd["SerdeInfo"]["SerializationLibrary"]
    if sc.params["OutputLayout"] == "parquet":
        assert serde == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        assert sd["InputFormat"].endswith("MapredParquetInputFormat")
    else:
        assert serde == "org.apache.hive.hcatalog.data.JsonSerDe"
        assert sd["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert sd["Location"] == {"Fn::Sub": "s3://${LogBucket}/logs/"}


def firehose_prefix_to_location_template(prefix: str, partition_cols: list[str]) -> str:
    """What Athena's storage.location.template must be for a Firehose S3 prefix."""
    if "!{partitionKeyFromLambda:" in prefix:
        keys = re.findall(r"!\{partitionKeyFromLambda:([a-z_]+)\}", prefix)
        assert len(keys) == len(partition_cols)
        for key, col in zip(keys, partition_cols):
            prefix = prefix.replace("!{partitionKeyFromLambda:%s}" % key, "${!%s}" % col)
    else:
        (col,) = partition_cols
        prefix = prefix.replace("!{timestamp:yyyy/MM/dd/HH}", "${!%s}" % col)
    assert "!{" not in prefix
    return "s3://${LogBucket}/" + prefix


def test_partition_projection_matches_prefix(sc):
    t = sc.table
    params = t["Parameters"]
    cols = [c["Name"] for c in t["PartitionKeys"]]
    assert params["projection.enabled"] == "true"
    expected = firehose_prefix_to_location_template(sc.s3dest["Prefix"], cols)
    assert params["storage.location.template"] == {"Fn::Sub": expected}
    if sc.params["DynamicPartitioning"] == "true":
        if sc.params["SourceAccountIds"]:
            # The sending accounts are known: an enum projection (this account and the listed).
            assert cols == ["partition_owner", "partition_log_group", "year", "month", "day", "hour"]
            assert params["projection.partition_owner.type"] == "enum"
            assert sc.eval(params["projection.partition_owner.values"]).split(",") == [
                PSEUDO["AWS::AccountId"], *SOURCE_ACCOUNTS.split(",")]
        else:
            assert cols == ["partition_log_group", "year", "month", "day", "hour"]
            assert not any(k.startswith("projection.partition_owner") for k in params)
        assert params["projection.partition_log_group.type"] == "injected"
        for col in ("year", "month", "day", "hour"):
            assert params[f"projection.{col}.type"] == "integer"
        assert not any(k.startswith("projection.dt.") for k in params)
    else:
        assert cols == ["dt"]
        assert params["projection.dt.type"] == "date"
        assert params["projection.dt.format"] == "yyyy/MM/dd/HH"
        assert params["projection.dt.range"] == {"Fn::Sub": "${ProjectionStart},NOW"}
        assert params["projection.dt.interval"] == "1"
        assert params["projection.dt.interval.unit"] == "HOURS"
    assert not any(k.startswith("projection.year") for k in params) or sc.params["DynamicPartitioning"] == "true"


def test_log_group_enum_projection():
    t = Scenario({"DynamicPartitioning": "true", "PartitionLogGroups": "/ecs/api,/ecs/web"}).table
    assert t["Parameters"]["projection.partition_log_group.type"] == "enum"
    assert t["Parameters"]["projection.partition_log_group.values"] == {"Ref": "PartitionLogGroups"}


def test_athena_workgroup_encrypted_and_enforced():
    wg = Scenario().only("AWS::Athena::WorkGroup")[1]["Properties"]["WorkGroupConfiguration"]
    assert wg["EnforceWorkGroupConfiguration"] is True
    enc = wg["ResultConfiguration"]["EncryptionConfiguration"]
    assert enc["EncryptionOption"] == "SSE_KMS"
    assert enc["KmsKey"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}


def test_named_queries(sc):
    queries = {q["Properties"]["Name"]: q["Properties"] for q in sc.of_type("AWS::Athena::NamedQuery").values()}
    assert set(queries) == {
        "events-per-log-group-per-hour", "errors-last-hour", "deduplicated-events", "events-per-account-per-hour"}
    for q in queries.values():
        assert q["WorkGroup"] == {"Ref": "AthenaWorkGroup"}
        sql = sub_text(q["QueryString"])
        assert '"${GlueDatabase}"."${GlueTableName}"' in sql
        # "timestamp" is a keyword-like name: always quoted.
        assert not re.search(r'(?<!")\btimestamp\b(?!")', sql.replace("current_timestamp", "")), sql
        if sc.params["DynamicPartitioning"] == "true":
            assert "partition_log_group = " in sql  # injected projection needs the value
        else:
            assert "dt >= " in sql  # prune on the projected arrival hour
    assert "GROUP BY" in sub_text(queries["events-per-log-group-per-hour"]["QueryString"])
    assert "LIKE '%ERROR%'" in sub_text(queries["errors-last-hour"]["QueryString"])
    assert "PARTITION BY id" in sub_text(queries["deduplicated-events"]["QueryString"])
    per_account = sub_text(queries["events-per-account-per-hour"]["QueryString"])
    assert per_account.startswith("SELECT owner, log_group,") and "GROUP BY 1, 2, 3" in per_account


def sub_text(node) -> str:
    sub = node["Fn::Sub"]
    return sub if isinstance(sub, str) else sub[0]


def sanitize_log_group(name: str) -> str:
    """Python copy of cwl_firehose::partition::sanitize_log_group (the log_group partition key)."""
    cleaned = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in name.lstrip("/"))
    return cleaned or "unknown"


@pytest.mark.parametrize(
    "log_group",
    ["/aws/lambda/api", "/ecs/api#1", "a.b-c_d", "my-app", "/aws/kinesisfirehose/x.y", "plain/with/slash"],
)
def test_dynamic_queries_name_the_log_group_as_the_function_writes_it(log_group):
    s = Scenario({"DynamicPartitioning": "true", "SourceLogGroupName": log_group})
    for q in s.of_type("AWS::Athena::NamedQuery").values():
        text, variables = q["Properties"]["QueryString"]["Fn::Sub"]
        assert "partition_log_group = '${LogGroupKey}'" in text
        key = s.eval(variables["LogGroupKey"])
        assert key == sanitize_log_group(log_group)


# ----------------------------------------------------------------------------- subscription
def test_subscription_filter_and_role(sc):
    filters = sc.of_type("AWS::Logs::SubscriptionFilter")
    assert filters == {}, "no log group given: no filter"
    s = Scenario({**sc.params, "SourceLogGroupName": "/ecs/api"})
    (_, f), = s.of_type("AWS::Logs::SubscriptionFilter").items()
    p = f["Properties"]
    assert p["LogGroupName"] == {"Ref": "SourceLogGroupName"}
    assert p["FilterPattern"] == {"Ref": "FilterPattern"}
    assert TPL["Parameters"]["FilterPattern"]["Default"] == ""
    assert p["RoleArn"] == {"Fn::GetAtt": ["SubscriptionRole", "Arn"]}
    role = s.resources["SubscriptionRole"]["Properties"]
    (trust,) = statements(role["AssumeRolePolicyDocument"])
    assert "aws:SourceArn" in trust["Condition"]["StringLike"]
    (st,) = statements(role["Policies"][0]["PolicyDocument"])
    if s.params["SourceKinesisStreamArn"]:
        assert p["DestinationArn"] == {"Ref": "SourceKinesisStreamArn"}
        assert st["Resource"] == {"Ref": "SourceKinesisStreamArn"}
    else:
        assert p["DestinationArn"] == {"Fn::GetAtt": ["DeliveryStream", "Arn"]}
        assert sorted(st["Action"]) == ["firehose:PutRecord", "firehose:PutRecordBatch"]
        assert st["Resource"] == {"Fn::GetAtt": ["DeliveryStream", "Arn"]}


# ----------------------------------------------------------------------------- alarms
def test_alarms_cover_the_pipeline():
    for email, parquet in [("", "json"), ("ops@example.com", "parquet")]:
        s = Scenario({"AlarmEmail": email, "OutputLayout": parquet})
        alarms = s.of_type("AWS::CloudWatch::Alarm").values()
        metrics = {
            (a["Properties"]["Namespace"], a["Properties"]["MetricName"])
            for a in alarms
            if isinstance(a["Properties"]["Namespace"], str)
        }
        assert {
            ("AWS/Firehose", "ExecuteProcessing.Success"),
            ("AWS/Firehose", "DeliveryToS3.DataFreshness"),
            ("AWS/Firehose", "DeliveryToS3.Success"),
            ("AWS/Lambda", "Errors"),
            ("AWS/Lambda", "Throttles"),
        } <= metrics
        if parquet == "parquet":
            assert ("AWS/Firehose", "FailedConversion.Records") in metrics
        topics = s.of_type("AWS::SNS::Topic")
        for a in alarms:
            if email:
                assert a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
            else:
                assert "AlarmActions" not in a["Properties"]
        if email:
            assert topics["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}
        else:
            assert topics == {}


# ----------------------------------------------------------------------------- whole template
def test_outputs():
    outputs = TPL["Outputs"]
    assert {
        "DeliveryStreamName",
        "DeliveryStreamArn",
        "LogBucketName",
        "GlueTableName",
        "FunctionArn",
        "AthenaWorkGroupName",
        "SubscriptionRoleArn",
        "DashboardName",
        "DashboardUrl",
        "DestinationArn",
        "AccountPolicyName",
    } <= set(outputs)
    central = Scenario({"SourceOrganizationId": ORGANIZATION})
    assert central.outputs["DestinationArn"]["Value"] == {"Fn::GetAtt": ["LogsDestination", "Arn"]}
    assert "DestinationArn" not in Scenario().outputs and "AccountPolicyName" not in Scenario().outputs
    url = Scenario().eval(Scenario().outputs["DashboardUrl"]["Value"])
    assert url == "https://xx-test-1.console.aws.amazon.com/cloudwatch/home?region=xx-test-1#dashboards/dashboard/central-prod-cwl-firehose"
    # The console's domain is only known in the aws partition.
    assert "DashboardUrl" not in Scenario({"AWS::Partition": "aws-cn"}).outputs


@pytest.mark.parametrize("raw", [RAW, SRC_RAW], ids=["template", "source-account"])
def test_no_hard_coded_account_ids_regions_or_partitions(raw):
    code = "\n".join(line.split(" #", 1)[0] for line in raw.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"(?<![0-9])[0-9]{12}(?![0-9])", code), "12-digit account id in template"
    region = r"\b(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso[a-z]?)-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[0-9]\b"
    assert not re.search(region, code), "region name in template"
    assert "arn:aws:" not in code and "arn:aws-" not in code, "use ${AWS::Partition} in ARNs"
    assert "amazonaws.com" not in code, "use ${AWS::URLSuffix}"


def dependencies(node) -> set[str]:
    deps = set()
    for_each = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    if isinstance(node, dict):
        if "Ref" in node and isinstance(node["Ref"], str):
            deps.add(node["Ref"])
        if "Fn::GetAtt" in node:
            deps.add(node["Fn::GetAtt"][0])
        if "Fn::Sub" in node:
            sub = node["Fn::Sub"]
            text, variables = (sub, {}) if isinstance(sub, str) else sub
            local = set(variables)
            for ref in re.findall(r"\$\{([^!][^}]*)\}", text):
                name = ref.split(".", 1)[0]
                if name not in local:
                    deps.add(name)
    for v in for_each:
        deps |= dependencies(v)
    return deps


def test_no_circular_dependencies(sc):
    names = set(sc.resources)
    graph = {}
    for name, res in sc.resources.items():
        d = dependencies(res.get("Properties", {})) | set(as_list(res.get("DependsOn", [])))
        graph[name] = {x for x in d if x in names}
    state: dict[str, int] = {}

    def visit(n, path):
        if state.get(n) == 1:
            raise AssertionError("circular dependency: " + " -> ".join(path + [n]))
        if state.get(n) == 2:
            return
        state[n] = 1
        for m in sorted(graph[n]):
            visit(m, path + [n])
        state[n] = 2

    for n in sorted(graph):
        visit(n, [])


@pytest.mark.parametrize("tpl", [TPL, SRC], ids=["template", "source-account"])
def test_checkov_skips_are_justified(tpl):
    for name, res in tpl["Resources"].items():
        ids = []
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert re.fullmatch(r"CKV2?_AWS_[0-9]+", skip["id"]), skip
            assert len(skip.get("comment", "").strip()) >= 30, f"{name}/{skip['id']}: give the reason"
            ids.append(skip["id"])
        assert len(ids) == len(set(ids)), f"{name}: duplicate skip"


def test_sam_transform_offline(monkeypatch):
    """The SAM transform (what `sam validate` without --lint and CloudFormation do) succeeds,
    offline: managed policies are not looked up (the template uses none) and the region is a
    dummy one."""
    from samtranslator.translator.transform import transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    class NoManagedPolicies:
        def load(self):
            return {}

    packaged = load_template()
    # What `sam build` + `sam deploy` do before the transform: the code is uploaded to S3.
    packaged["Resources"]["LogsProcessorFunction"]["Properties"]["CodeUri"] = "s3://example-artifacts/cwl-firehose.zip"
    packaged["Resources"]["DigestFunction"]["Properties"]["CodeUri"] = "s3://example-artifacts/cwl-firehose.zip"
    packaged["Resources"]["ReplayFunction"]["Properties"]["CodeUri"] = "s3://example-artifacts/cwl-firehose.zip"
    out = transform(packaged, {}, NoManagedPolicies())
    types = {r["Type"] for r in out["Resources"].values()}
    assert not any(t.startswith("AWS::Serverless::") for t in types)
    fn = out["Resources"]["LogsProcessorFunction"]
    assert fn["Type"] == "AWS::Lambda::Function"
    assert fn["Properties"]["Runtime"] == "provided.al2023"
    # The parameter is passed through: CloudFormation resolves it (default arm64).
    assert fn["Properties"]["Architectures"] == [{"Ref": "Architecture"}]
    assert fn["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionLogGroup"}}
    assert fn["Properties"]["TracingConfig"] == {"Mode": "Active"}
    assert out["Rules"] == TPL["Rules"]


# ----------------------------------------------------------------------------- collection modes
def selection_criteria_names(text: str) -> list[str]:
    """The log group names of 'LogGroupName NOT IN ["a", "b"]' (the only form CloudWatch Logs
    accepts); the list must be valid JSON, so a quote in a name would show here."""
    m = re.fullmatch(r'LogGroupName NOT IN (\[.*\])', text)
    assert m, text
    names = json.loads(m[1])
    assert names and all(isinstance(n, str) and n for n in names), text
    assert len(text.encode()) <= 25 * 1024  # CloudWatch Logs' limit on selection criteria
    return names


def trust_statement(s: Scenario, role: str) -> dict:
    (st,) = statements(s.resources[role]["Properties"]["AssumeRolePolicyDocument"])
    return st


def role_statements(s: Scenario, role: str) -> list[dict]:
    out = []
    for pol in s.resources[role]["Properties"].get("Policies", []):
        out += statements(pol["PolicyDocument"])
    return out


# Resources every stack has, whatever it collects.
COMMON_RESOURCES = {
    "LogsKey", "LogsKeyAlias", "AccessLogBucket", "AccessLogBucketPolicy", "LogBucket",
    "LogBucketPolicy", "AthenaResultsBucket", "AthenaResultsBucketPolicy", "FunctionRole",
    "FunctionPolicy", "LogsProcessorFunction", "FunctionLogGroup", "GlueDatabase", "LogEventsTable",
    "AthenaWorkGroup", "EventsPerLogGroupPerHourQuery", "ErrorsLastHourQuery",
    "DeduplicatedEventsQuery", "EventsPerAccountQuery", "FirehoseLogGroup", "FirehoseLogStream",
    "FirehoseRole", "FirehosePolicy", "DeliveryStream", "SubscriptionRole", "ProcessingFailureAlarm",
    "DeliveryFailureAlarm", "DataFreshnessAlarm", "FirehoseErrorLogMetricFilter",
    "FirehoseErrorLogAlarm", "FunctionErrorsAlarm", "FunctionThrottlesAlarm", "Dashboard",
    "DigestKey", "DigestKeyAlias", "DigestFunctionRole", "DigestFunctionPolicy", "DigestLogGroup",
    "DigestFunction", "DigestMissingAlarm", "IntegrityFindingAlarm",
    "ReplayFunctionRole", "ReplayFunctionPolicy", "ReplayLogGroup", "ReplayFunction",
    "ReplayQuarantineAlarm", "ReplayErrorsAlarm",
}
# Each mode: its parameters and the resources it adds to the common ones, no more, no fewer.
MODES = {
    "nothing-subscribed": ({}, set()),
    "single-group": ({"SourceLogGroupName": "/ecs/api"}, {"SubscriptionFilter"}),
    "whole-account": ({"SubscribeWholeAccount": "true"}, {"AccountSubscriptionPolicy"}),
    "whole-account-and-single-group": (
        {"SubscribeWholeAccount": "true", "SourceLogGroupName": "/ecs/api"},
        {"AccountSubscriptionPolicy", "SubscriptionFilter"},
    ),
    "central-accounts": ({"SourceAccountIds": SOURCE_ACCOUNTS}, {"LogsDestination", "LogsDestinationRole"}),
    "central-organization": ({"SourceOrganizationId": ORGANIZATION}, {"LogsDestination", "LogsDestinationRole"}),
    "central-and-whole-account": (
        {"SourceAccountIds": SOURCE_ACCOUNTS, "SubscribeWholeAccount": "true"},
        {"LogsDestination", "LogsDestinationRole", "AccountSubscriptionPolicy"},
    ),
}


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_renders_only_the_resources_it_needs(mode):
    overrides, extra = MODES[mode]
    assert set(Scenario(overrides).resources) == COMMON_RESOURCES | extra


@pytest.fixture(scope="module")
def translated() -> dict:
    """The template after the SAM transform (what CloudFormation deploys), offline."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self):
            return {}

    packaged = load_template()
    packaged["Resources"]["LogsProcessorFunction"]["Properties"]["CodeUri"] = "s3://example-artifacts/cwl-firehose.zip"
    packaged["Resources"]["DigestFunction"]["Properties"]["CodeUri"] = "s3://example-artifacts/cwl-firehose.zip"
    packaged["Resources"]["ReplayFunction"]["Properties"]["CodeUri"] = "s3://example-artifacts/cwl-firehose.zip"
    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        return transform(packaged, {}, NoManagedPolicies())
    finally:
        if saved is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_after_the_sam_transform(mode, translated):
    """The same modes, with the conditions evaluated on the transformed template: SAM keeps the
    conditions and adds nothing a mode does not use."""
    overrides, extra = MODES[mode]
    s = Scenario(overrides, tpl=translated)
    # The digest function's schedule becomes an EventBridge rule and its permission to invoke.
    schedule = {"DigestFunctionInterval", "DigestFunctionIntervalPermission",
                "ReplayFunctionInterval", "ReplayFunctionIntervalPermission"}
    assert set(s.resources) == (COMMON_RESOURCES | extra | schedule)
    assert s.resources["LogsProcessorFunction"]["Type"] == "AWS::Lambda::Function"


@pytest.mark.parametrize("kinesis", ["", KINESIS_ARN])
@pytest.mark.parametrize("extra", ["", "/aws/vpc/flow-logs", "a,b/c,d#e"])
@pytest.mark.parametrize("single", ["", "/ecs/api"])
def test_account_policy_excludes_the_pipelines_own_log_groups(kinesis, extra, single):
    s = Scenario({"SubscribeWholeAccount": "true", "SourceKinesisStreamArn": kinesis,
                  "ExcludeLogGroups": extra, "SourceLogGroupName": single})
    p = s.resources["AccountSubscriptionPolicy"]["Properties"]
    assert p["PolicyType"] == "SUBSCRIPTION_FILTER_POLICY"
    assert p["Scope"] == "ALL"
    names = selection_criteria_names(s.eval(p["SelectionCriteria"]))
    # The function's and Firehose's log groups, by the names the log groups really get.
    own = [s.eval({"Ref": "FunctionLogGroup"}), s.eval({"Ref": "FirehoseLogGroup"})]
    assert own == ["/aws/lambda/central-prod-transform", "/aws/kinesisfirehose/central-prod"]
    assert names == own + [n for n in extra.split(",") if n] + ([single] if single else [])
    doc = json.loads(s.eval(p["PolicyDocument"]))
    assert doc == {
        "DestinationArn": kinesis or "<DeliveryStream.Arn>",
        "RoleArn": "<SubscriptionRole.Arn>",
        "FilterPattern": "",
        "Distribution": "ByLogStream",
    }


@pytest.mark.parametrize("tpl,name", [(TPL, "AccountFilterPattern"), (SRC, "FilterPattern")])
def test_account_policy_filter_pattern_cannot_break_its_json(tpl, name):
    for ok in ["", "ERROR", "{ $.level = ERROR }", "[ip, user, status=5*]", "?ERROR ?Exception"]:
        assert allowed(tpl, name, ok), ok
    for bad in ['{ $.level = "ERROR" }', "a\\b"]:
        assert not allowed(tpl, name, bad), bad
    if tpl is TPL:
        s = Scenario({"SubscribeWholeAccount": "true", name: "{ $.level = ERROR }", "SubscriptionDistribution": "Random"})
    else:
        s = src({name: "{ $.level = ERROR }", "Distribution": "Random"})
    doc = json.loads(s.eval(s.resources["AccountSubscriptionPolicy"]["Properties"]["PolicyDocument"]))
    assert doc["FilterPattern"] == "{ $.level = ERROR }" and doc["Distribution"] == "Random"


@pytest.mark.parametrize("tpl,name", [(TPL, "ExcludeLogGroups"), (TPL, "SourceLogGroupName"), (SRC, "ExcludeLogGroups"), (SRC, "SourceLogGroupName")])
def test_log_group_parameters_take_only_log_group_names(tpl, name):
    # They are written into a quoted list: a quote, and anything CloudWatch Logs does not allow
    # in a name (':' and '*' are what EXCLUDE_LOG_GROUPS uses as syntax), must be refused.
    assert allowed(tpl, name, "/aws/lambda/api-1_x.y#2")
    for bad in ['a"b', "a:b", "a*", "a b", "a]"]:
        assert not allowed(tpl, name, bad), bad


def exclude_entries(s: Scenario) -> list[str]:
    fn = s.transform_function()[1]["Properties"]
    return s.eval(fn["Environment"]["Variables"]["EXCLUDE_LOG_GROUPS"]).split(",")


@pytest.mark.parametrize("count", [0, 1, 3, 10])
def test_function_excludes_the_pipelines_own_log_groups(count):
    """EXCLUDE_LOG_GROUPS (read by the function): this account's function and Firehose log groups
    and each ExcludeLogGroups name, every entry ACCOUNT_ID:LOG_GROUP so that the same name in a
    sending account is not dropped."""
    extra = [f"/aws/vpc/flow-logs-{i}" for i in range(count)]
    s = Scenario({"ExcludeLogGroups": ",".join(extra)})
    entries = exclude_entries(s)
    account = PSEUDO["AWS::AccountId"]
    own = [f"{account}:/aws/lambda/central-prod-transform", f"{account}:/aws/kinesisfirehose/central-prod"]
    assert entries[:2] == own
    assert set(entries) == set(own) | {f"{account}:{n}" for n in extra}
    assert entries[2:2 + count] == [f"{account}:{n}" for n in extra]
    for entry in entries:
        acct, name = entry.split(":")
        assert acct == account and name and not name.endswith("*")
    # Lambda's limit on the environment (all variables): at most 10 names of at most 1800 chars.
    assert len(",".join(entries)) < 4096 - 512


def test_exclude_log_groups_is_capped_at_what_the_function_environment_can_hold():
    assert allowed(TPL, "ExcludeLogGroups", ",".join(f"g{i}" for i in range(10)))
    assert not allowed(TPL, "ExcludeLogGroups", ",".join(f"g{i}" for i in range(11)))
    names = ",".join(("/" + "x" * 95 + str(i)) for i in range(10))
    assert len(names) <= 980 and allowed(TPL, "ExcludeLogGroups", names)
    s = Scenario({"ExcludeLogGroups": names, "DeliveryStreamName": "s" * 64})
    assert len(",".join(exclude_entries(s))) < 4096 - 512
    assert not allowed(TPL, "ExcludeLogGroups", names + "," + "/y")


def destination_policy(s: Scenario) -> dict:
    return json.loads(s.eval(s.resources["LogsDestination"]["Properties"]["DestinationPolicy"]))


DESTINATION_ARN = "arn:aws:logs:xx-test-1:999999999999:destination:central-prod"
SUBSCRIBE_ACTIONS = ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"]


@pytest.mark.parametrize("accounts,organization", [(SOURCE_ACCOUNTS, ""), ("333333333333", ""), ("", ORGANIZATION), (SOURCE_ACCOUNTS, ORGANIZATION)])
def test_destination_policy_admits_only_the_listed_accounts_or_organization(accounts, organization):
    s = Scenario({"SourceAccountIds": accounts, "SourceOrganizationId": organization})
    dest = s.resources["LogsDestination"]["Properties"]
    assert s.eval(dest["DestinationName"]) == "central-prod"
    assert dest["TargetArn"] == {"Fn::GetAtt": ["DeliveryStream", "Arn"]}
    assert dest["RoleArn"] == {"Fn::GetAtt": ["LogsDestinationRole", "Arn"]}
    policy = destination_policy(s)
    assert policy["Version"] == "2012-10-17"
    sts = policy["Statement"]
    assert len(sts) == bool(accounts) + bool(organization)
    for st in sts:
        assert st["Effect"] == "Allow"
        assert st["Action"] == SUBSCRIBE_ACTIONS
        assert st["Resource"] == DESTINATION_ARN
        if st["Principal"] == "*":
            # Anyone only within the organization, nothing else.
            assert st["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": organization}}
        else:
            assert st["Principal"] == {"AWS": accounts.split(",")}
            assert "Condition" not in st
    assert any(st["Principal"] == "*" for st in sts) == bool(organization)
    assert any(st["Principal"] != "*" for st in sts) == bool(accounts)


@pytest.mark.parametrize("kinesis", ["", KINESIS_ARN])
@pytest.mark.parametrize("accounts,organization", [(SOURCE_ACCOUNTS, ""), ("", ORGANIZATION), (SOURCE_ACCOUNTS, ORGANIZATION)])
def test_destination_role_least_privilege(accounts, organization, kinesis):
    s = Scenario({"SourceAccountIds": accounts, "SourceOrganizationId": organization, "SourceKinesisStreamArn": kinesis})
    trust = trust_statement(s, "LogsDestinationRole")
    assert trust["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::URLSuffix}"}}
    assert trust["Action"] == "sts:AssumeRole"
    cond = {op: {k: s.eval(v) for k, v in keys.items()} for op, keys in trust["Condition"].items()}
    assert cond["StringLike"] == {"aws:SourceArn": "arn:aws:logs:xx-test-1:*"}
    if organization:
        assert set(cond) == {"StringLike"}
    else:
        # ArnLike: each ARN part on its own, so the account part is one of these exactly.
        assert cond["ArnLike"] == {"aws:SourceArn": [
            f"arn:*:logs:*:{a}:*" for a in [PSEUDO["AWS::AccountId"], *accounts.split(",")]]}
    (st,) = role_statements(s, "LogsDestinationRole")
    if kinesis:
        assert sorted(st["Action"]) == ["kinesis:PutRecord", "kinesis:PutRecords"]
        assert st["Resource"] == {"Ref": "SourceKinesisStreamArn"}
        assert s.resources["LogsDestination"]["Properties"]["TargetArn"] == {"Ref": "SourceKinesisStreamArn"}
    else:
        assert sorted(st["Action"]) == ["firehose:PutRecord", "firehose:PutRecordBatch"]
        assert st["Resource"] == {"Fn::GetAtt": ["DeliveryStream", "Arn"]}
    assert "ManagedPolicyArns" not in s.resources["LogsDestinationRole"]["Properties"]


@pytest.mark.parametrize("mode", MODES)
def test_every_role_trusts_one_service_with_a_source_condition(mode):
    s = Scenario(MODES[mode][0])
    for name in s.of_type("AWS::IAM::Role"):
        st = trust_statement(s, name)
        assert st["Effect"] == "Allow" and st["Action"] == "sts:AssumeRole", name
        assert set(st["Principal"]) == {"Service"}, name
        keys = {k for op in st["Condition"].values() for k in op}
        assert keys & {"aws:SourceArn", "aws:SourceAccount", "sts:ExternalId"}, name
        if st["Principal"]["Service"] == {"Fn::Sub": "logs.${AWS::URLSuffix}"}:
            assert "aws:SourceArn" in keys, name


@pytest.mark.parametrize("organization", ["", ORGANIZATION])
def test_dynamic_partitioning_puts_the_owner_into_the_key(organization):
    s = Scenario({"DynamicPartitioning": "true", "SourceAccountIds": "" if organization else SOURCE_ACCOUNTS,
                  "SourceOrganizationId": organization, "SourceLogGroupName": "/ecs/api"})
    assert s.s3dest["Prefix"] == OWNER_PREFIX
    params = s.table["Parameters"]
    queries = [q["Properties"]["QueryString"]["Fn::Sub"] for q in s.of_type("AWS::Athena::NamedQuery").values()]
    assert len(queries) == 4
    if organization:
        # An organization's accounts are unknown: every query must name the account.
        assert params["projection.partition_owner.type"] == "injected"
        assert "projection.partition_owner.values" not in params
        for text, variables in queries:
            assert "WHERE ${OwnerFilter}partition_log_group = " in text
            assert s.eval(variables["OwnerFilter"]) == "partition_owner = '999999999999' AND "
    else:
        assert params["projection.partition_owner.type"] == "enum"
        for text, variables in queries:
            assert s.eval(variables["OwnerFilter"]) == ""


def test_same_account_stack_keeps_its_s3_layout():
    # Without a destination nothing but this account writes: no owner in the key.
    s = Scenario({"DynamicPartitioning": "true", "SubscribeWholeAccount": "true"})
    assert s.s3dest["Prefix"] == DYNAMIC_PREFIX


# ----------------------------------------------------------------------------- dashboard
def dashboard(s: Scenario) -> dict:
    (_, d), = s.of_type("AWS::CloudWatch::Dashboard").items()
    assert s.eval(d["Properties"]["DashboardName"]) == "central-prod-cwl-firehose"
    return json.loads(s.eval(d["Properties"]["DashboardBody"]))


def widget_metrics(w: dict) -> list[tuple]:
    """(namespace, metric name, dimensions) of each line of a metric widget."""
    out = []
    for m in w["properties"].get("metrics", []):
        opts = m[-1] if isinstance(m[-1], dict) else {}
        parts = m[:-1] if opts else m
        out.append((parts[0], parts[1], dict(zip(parts[2::2], parts[3::2]))))
    return out


@pytest.mark.parametrize(
    "overrides", [{}, {"OutputLayout": "parquet", "SourceKinesisStreamArn": KINESIS_ARN}], ids=["json", "parquet-kinesis"])
def test_dashboard_shows_the_function_firehose_and_every_alarm(overrides):
    s = Scenario(overrides)
    body = dashboard(s)
    widgets = body["widgets"]
    lines = [m for w in widgets if w["type"] == "metric" for m in widget_metrics(w)]
    for w in widgets:
        if w["type"] == "metric":
            assert w["properties"]["region"] == "xx-test-1"
        assert 0 <= w["x"] and w["x"] + w["width"] <= 24
    emf = {name for ns, name, _ in lines if ns == EMF_NAMESPACE}
    # Every metric the function writes, with the dimensions it writes them with.
    assert emf == EMF_METRICS
    for ns, name, dims in lines:
        if ns == EMF_NAMESPACE:
            assert dims == {"FunctionName": "<LogsProcessorFunction>", "DeliveryStream": "central-prod"}, name
        elif ns == "AWS/Firehose":
            assert dims == {"DeliveryStreamName": "central-prod"}, name
        elif ns == "AWS/Lambda":
            assert dims == {"FunctionName": "<LogsProcessorFunction>"}, name
    firehose = {name for ns, name, _ in lines if ns == "AWS/Firehose"}
    incoming = "DataReadFromKinesisStream.Records" if overrides.get("SourceKinesisStreamArn") else "IncomingRecords"
    assert {"DeliveryToS3.Success", "DeliveryToS3.DataFreshness", "ExecuteProcessing.Success",
            "SucceedProcessing.Records", incoming} <= firehose
    assert {name for ns, name, _ in lines if ns == "AWS/Lambda"} >= {"Errors", "Throttles", "Duration"}
    assert ("cwl-firehose/central-prod", "FirehoseErrorLogEvents", {}) in lines
    # The alarms of this stack, all of them (PCI DSS 10.7.2: looked at, not only mailed).
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(
        f"<{name}.Arn>" for name in s.of_type("AWS::CloudWatch::Alarm"))
    freshness = next(w for w in widgets if any(n == "DeliveryToS3.DataFreshness" for _, n, _ in widget_metrics(w)))
    assert freshness["properties"]["annotations"]["horizontal"][0]["value"] == 900


# ----------------------------------------------------------------------------- source-account template
SRC_BASE = {"DestinationAccountId": "999999999999", "DestinationName": "central-prod"}
SRC_MODES = {
    "whole-account": ({}, {"AccountSubscriptionPolicy"}),
    "whole-account-organization": ({"DestinationGrantsOrganization": "true"}, {"AccountSubscriptionPolicy", "SenderRole"}),
    "one-group": ({"SourceLogGroupName": "/ecs/api"}, {"LogGroupSubscriptionFilter"}),
    "one-group-organization": (
        {"SourceLogGroupName": "/ecs/api", "DestinationGrantsOrganization": "true"},
        {"LogGroupSubscriptionFilter", "SenderRole"},
    ),
}


def src(overrides: dict | None = None) -> Scenario:
    return Scenario({**SRC_BASE, "AWS::AccountId": "111111111111", **(overrides or {})}, tpl=SRC)


def test_source_template_is_plain_cloudformation():
    assert SRC["AWSTemplateFormatVersion"] == "2010-09-09"
    assert "Transform" not in SRC
    # A log group and the destination it sends to must be in the same Region: the ARN is built
    # with this stack's Region, never given whole.
    assert "DestinationArn" not in SRC["Parameters"]


@pytest.mark.parametrize("mode", SRC_MODES)
def test_source_template_modes_render_only_what_they_need(mode):
    overrides, expected = SRC_MODES[mode]
    s = src(overrides)
    assert set(s.resources) == expected
    assert s.of_type("AWS::Logs::LogGroup") == {}  # nothing new to encrypt or keep
    assert s.eval(s.outputs["DestinationArn"]["Value"]) == "arn:aws:logs:xx-test-1:999999999999:destination:central-prod"


@pytest.mark.parametrize("organization", ["false", "true"])
@pytest.mark.parametrize("extra", ["", "/aws/vpc/flow-logs,/x"])
def test_source_account_policy_excludes_the_central_pipelines_log_groups(organization, extra):
    s = src({"DestinationGrantsOrganization": organization, "ExcludeLogGroups": extra})
    p = s.resources["AccountSubscriptionPolicy"]["Properties"]
    assert p["PolicyType"] == "SUBSCRIPTION_FILTER_POLICY" and p["Scope"] == "ALL"
    names = selection_criteria_names(s.eval(p["SelectionCriteria"]))
    # The very names the central stack gives them (in case this template runs in that account).
    central = Scenario()
    own = [central.eval({"Ref": "FunctionLogGroup"}), central.eval({"Ref": "FirehoseLogGroup"})]
    assert names == own + [n for n in extra.split(",") if n]
    doc = json.loads(s.eval(p["PolicyDocument"]))
    expected = {"DestinationArn": DESTINATION_ARN, "FilterPattern": "", "Distribution": "ByLogStream"}
    if organization == "true":
        expected["RoleArn"] = "<SenderRole.Arn>"
    assert doc == expected
    # The destination the central stack creates is the one this template builds the ARN of.
    central = Scenario({"SourceAccountIds": "111111111111"})
    assert central.eval({"Ref": "LogsDestination"}) == SRC_BASE["DestinationName"]


@pytest.mark.parametrize("organization", ["false", "true"])
def test_source_single_group_filter(organization):
    s = src({"SourceLogGroupName": "/ecs/api", "DestinationGrantsOrganization": organization})
    p = s.resources["LogGroupSubscriptionFilter"]["Properties"]
    assert p["LogGroupName"] == {"Ref": "SourceLogGroupName"}
    assert s.eval(p["DestinationArn"]) == DESTINATION_ARN
    assert p["Distribution"] == {"Ref": "Distribution"}
    if organization == "true":
        assert p["RoleArn"] == {"Fn::GetAtt": ["SenderRole", "Arn"]}
    else:
        assert "RoleArn" not in p


@pytest.mark.parametrize("group", ["", "/ecs/api"])
def test_source_sender_role_least_privilege(group):
    s = src({"SourceLogGroupName": group, "DestinationGrantsOrganization": "true"})
    trust = trust_statement(s, "SenderRole")
    assert trust["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::URLSuffix}"}}
    assert {op: {k: s.eval(v) for k, v in keys.items()} for op, keys in trust["Condition"].items()} == {
        "StringLike": {"aws:SourceArn": "arn:aws:logs:xx-test-1:111111111111:*"}}
    (st,) = role_statements(s, "SenderRole")
    assert st["Action"] == "logs:PutLogEvents"
    resource = s.eval(st["Resource"])
    if group:
        assert resource == "arn:aws:logs:xx-test-1:111111111111:log-group:/ecs/api:*"
    else:
        assert resource == "arn:aws:logs:xx-test-1:111111111111:log-group:*"


@pytest.mark.parametrize("mode", MODES)
def test_kms_covers_every_log_group_of_every_mode(mode):
    """Every log group (the function's, now named from the stream, and Firehose's) is encrypted
    with the stack's key, and the key policy lets CloudWatch Logs use it for exactly those."""
    s = Scenario(MODES[mode][0])
    key = s.resources["LogsKey"]["Properties"]
    (logs_st,) = [st for st in statements(key["KeyPolicy"]) if st["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.${AWS::URLSuffix}"}}]
    pattern = s.eval(logs_st["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
    groups = s.of_type("AWS::Logs::LogGroup")
    assert set(groups) == {"FunctionLogGroup", "FirehoseLogGroup", "DigestLogGroup", "ReplayLogGroup"}
    for name, g in groups.items():
        assert g["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}, name
        arn = "arn:aws:logs:xx-test-1:999999999999:log-group:" + s.eval({"Ref": name})
        assert fnmatch.fnmatchcase(arn, pattern), (arn, pattern)


# ----------------------------------------------------------------------------- placement and change control
SUBNETS = variants.SUBNETS
VPC_ON = {"SubnetIds": SUBNETS, "VpcId": variants.VPC}
GIVEN_GROUPS = "sg-0aaaaaaaaaaaaaaaa,sg-0bbbbbbbbbbbbbbbb"
BOUNDARY = variants.BOUNDARY
SIGNING = variants.SIGNING
PLACEMENT_RESOURCES = {"FunctionSecurityGroup", "EndpointSecurityGroup", "EndpointIngressFromFunction",
                       "FirehoseEndpoint", "KinesisEndpoint", "CodeSigningConfig"}
STREAM_ARN = "arn:aws:firehose:xx-test-1:999999999999:deliverystream/central-prod"


def function(s: Scenario) -> dict:
    return s.resources["LogsProcessorFunction"]["Properties"]


@pytest.mark.parametrize("name", variants.VARIANTS)
def test_each_linted_variant_is_its_template_with_other_defaults(name):
    """What run.sh lints for an option is the template with only that option's defaults (and
    the checkov skips its copy must pass without) changed."""
    template, defaults, dropped = variants.VARIANTS[name]
    original = load_template(REPO / template)
    copy = yaml.load(variants.render(name), Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass
    for param, value in defaults.items():
        assert str(copy["Parameters"][param]["Default"]) == value
        assert allowed(copy, param, value), param
        original["Parameters"][param]["Default"] = copy["Parameters"][param]["Default"]
    for check in dropped:
        res = original["Resources"][variants.DROPPED_FROM]
        skips = res["Metadata"]["checkov"]["skip"]
        assert any(s["id"] == check for s in skips), check
        res["Metadata"]["checkov"]["skip"] = [s for s in skips if s["id"] != check]
    assert copy == original


def test_placement_and_signing_are_off_by_default():
    s = Scenario()
    assert not PLACEMENT_RESOURCES & set(s.resources)
    fn = function(s)
    assert "VpcConfig" not in fn and "CodeSigningConfigArn" not in fn
    assert not [st for st in function_policy_statements(s) if any(a.startswith("ec2:") for a in as_list(st["Action"]))]
    for name in s.of_type("AWS::IAM::Role"):
        assert "PermissionsBoundary" not in s.resources[name]["Properties"], name


@pytest.mark.parametrize("kinesis", ["", KINESIS_ARN])
def test_vpc_with_created_endpoints_reaches_only_them(kinesis):
    s = Scenario({**VPC_ON, "SourceKinesisStreamArn": kinesis})
    created = {"FunctionSecurityGroup", "EndpointSecurityGroup", "EndpointIngressFromFunction", "FirehoseEndpoint"}
    assert PLACEMENT_RESOURCES & set(s.resources) == created | ({"KinesisEndpoint"} if kinesis else set())
    vpc = function(s)["VpcConfig"]
    assert s.eval(vpc["SubnetIds"]) == SUBNETS.split(",")
    assert vpc["SecurityGroupIds"] == [{"Fn::GetAtt": ["FunctionSecurityGroup", "GroupId"]}]
    # The function's group: no ingress, HTTPS to the endpoints' group and nothing else.
    fsg = s.resources["FunctionSecurityGroup"]["Properties"]
    assert fsg["VpcId"] == {"Ref": "VpcId"} and "SecurityGroupIngress" not in fsg
    (egress,) = fsg["SecurityGroupEgress"]
    assert {k: egress[k] for k in ("IpProtocol", "FromPort", "ToPort")} == {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    assert egress["DestinationSecurityGroupId"] == {"Fn::GetAtt": ["EndpointSecurityGroup", "GroupId"]}
    assert not {"CidrIp", "CidrIpv6", "DestinationPrefixListId"} & set(egress)
    # The endpoints' group: HTTPS from the function's group only, and it never connects out.
    esg = s.resources["EndpointSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in esg
    assert esg["SecurityGroupEgress"] == [{"Description": "No egress (replaces the default allow-all rule)",
                                           "IpProtocol": "-1", "CidrIp": "127.0.0.1/32"}]
    ingress = [r["Properties"] for r in s.of_type("AWS::EC2::SecurityGroupIngress").values()]
    assert ingress == [{"Description": "HTTPS from the cwl-firehose function",
                        "GroupId": {"Fn::GetAtt": ["EndpointSecurityGroup", "GroupId"]},
                        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                        "SourceSecurityGroupId": {"Fn::GetAtt": ["FunctionSecurityGroup", "GroupId"]}}]
    # Each endpoint: interface, private DNS, in the function's subnets, and its policy lets
    # through exactly what the function's own policy allows there.
    expected = {"FirehoseEndpoint": ("kinesis-firehose", "firehose:PutRecordBatch", STREAM_ARN)}
    if kinesis:
        expected["KinesisEndpoint"] = ("kinesis-streams", "kinesis:PutRecords", kinesis)
    fn_statements = function_policy_statements(s)
    for name, (service, action, arn) in expected.items():
        ep = s.resources[name]["Properties"]
        assert ep["VpcEndpointType"] == "Interface" and ep["PrivateDnsEnabled"] is True
        assert s.eval(ep["ServiceName"]) == f"com.amazonaws.xx-test-1.{service}"
        assert ep["VpcId"] == {"Ref": "VpcId"}
        assert s.eval(ep["SubnetIds"]) == SUBNETS.split(",")
        assert ep["SecurityGroupIds"] == [{"Fn::GetAtt": ["EndpointSecurityGroup", "GroupId"]}]
        (st,) = statements(ep["PolicyDocument"])
        assert st["Effect"] == "Allow" and st["Principal"] == {"AWS": {"Fn::GetAtt": ["FunctionRole", "Arn"]}}
        assert st["Action"] == action and s.eval(st["Resource"]) == arn
        (own,) = [f for f in fn_statements if action in as_list(f["Action"])]
        assert as_list(own["Action"]) == [action] and s.eval(own["Resource"]) == arn


@pytest.mark.parametrize("incomplete", [
    {"SubnetIds": SUBNETS},
    {"VpcId": variants.VPC},
    {**VPC_ON, "VpcEndpoints": "existing"},  # whose security groups would reach them?
])
def test_an_incomplete_placement_is_refused(incomplete):
    """The rules refuse it before CloudFormation creates anything; and the conditions render no
    placement for it, so no branch refers to a resource that is not there."""
    params = param_values(incomplete)
    refused = []
    for name, rule in TPL["Rules"].items():
        if "RuleCondition" in rule and not eval_condition(rule["RuleCondition"], {}, params):
            continue
        refused += [a for a in rule["Assertions"] if not eval_condition(a["Assert"], {}, params)]
    assert len(refused) == 1
    s = Scenario(incomplete)
    assert "VpcConfig" not in function(s) and not PLACEMENT_RESOURCES & set(s.resources)


@pytest.mark.parametrize("endpoints", ["create", "existing"])
def test_vpc_with_given_security_groups(endpoints):
    s = Scenario({**VPC_ON, "SecurityGroupIds": GIVEN_GROUPS, "VpcEndpoints": endpoints})
    assert "FunctionSecurityGroup" not in s.resources
    assert s.eval(function(s)["VpcConfig"]["SecurityGroupIds"]) == GIVEN_GROUPS.split(",")
    if endpoints == "create":
        (ingress,) = s.of_type("AWS::EC2::SecurityGroupIngress").values()
        assert s.eval(ingress["Properties"]["SourceSecurityGroupId"]) == GIVEN_GROUPS.split(",")[0]
    else:
        # The account's endpoints and groups: the stack creates neither.
        assert not PLACEMENT_RESOURCES & set(s.resources)


def test_vpc_network_interface_permissions_are_scoped():
    for overrides in ({}, VPC_ON):
        ec2 = [st for st in function_policy_statements(Scenario(overrides))
               if any(a.startswith("ec2:") for a in as_list(st["Action"]))]
        if not overrides:
            assert ec2 == []
            continue
        s = Scenario(overrides)
        by_resource = {json.dumps(s.eval(st["Resource"])): sorted(as_list(st["Action"])) for st in ec2}
        # Describe works only on "*"; what changes anything stays in this account and Region.
        assert by_resource == {
            '"*"': ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            '"arn:aws:ec2:xx-test-1:999999999999:*/*"': [
                "ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"],
        }


@pytest.mark.parametrize("firehose,kinesis_url,kinesis", [
    ("", "", ""),
    ("https://vpce-0a-b.firehose.xx-test-1.vpce.example", "", ""),
    ("https://vpce-0a-b.firehose.xx-test-1.vpce.example", "https://vpce-0c-d.kinesis.xx-test-1.vpce.example", KINESIS_ARN),
    # A Kinesis URL without a Kinesis source is not set: there are no Kinesis calls.
    ("", "https://vpce-0c-d.kinesis.xx-test-1.vpce.example", ""),
])
def test_endpoint_urls_for_endpoints_without_private_dns(firehose, kinesis_url, kinesis):
    s = Scenario({**VPC_ON, "VpcEndpoints": "existing", "SecurityGroupIds": GIVEN_GROUPS,
                  "FirehoseEndpointUrl": firehose, "KinesisEndpointUrl": kinesis_url, "SourceKinesisStreamArn": kinesis})
    env = function(s)["Environment"]["Variables"]
    extra = {k: s.eval(v) for k, v in env.items() if k not in FUNCTION_ENV}
    want = {}
    if firehose:
        want["AWS_ENDPOINT_URL_FIREHOSE"] = firehose
    if kinesis_url and kinesis:
        want["AWS_ENDPOINT_URL_KINESIS"] = kinesis_url
    assert extra == want
    for name in ("FirehoseEndpointUrl", "KinesisEndpointUrl"):
        assert not allowed(TPL, name, "http://vpce.example")  # TLS only
        assert not allowed(TPL, name, "https://vpce.example/path")


def test_placement_parameters_accept_only_ids():
    assert allowed(TPL, "SubnetIds", SUBNETS) and not allowed(TPL, "SubnetIds", "subnet-1,sg-0123456789abcdef0")
    assert allowed(TPL, "SecurityGroupIds", GIVEN_GROUPS)
    assert not allowed(TPL, "SecurityGroupIds", ",".join(["sg-0123456789abcdef0"] * 6))  # Lambda: at most 5
    assert not allowed(TPL, "VpcId", "vpc-1")
    rules = TPL["Rules"]
    assert {"PlacementNeedsSubnetsAndVpc", "ExistingEndpointsNeedSecurityGroups"} <= set(rules)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("vpc", [False, True])
def test_permissions_boundary_on_every_role(mode, vpc):
    overrides = {**MODES[mode][0], **(VPC_ON if vpc else {})}
    off = Scenario(overrides)
    on = Scenario({**overrides, "PermissionsBoundaryArn": BOUNDARY})
    assert set(on.of_type("AWS::IAM::Role")) == set(off.of_type("AWS::IAM::Role"))
    for name in on.of_type("AWS::IAM::Role"):
        assert on.eval(on.resources[name]["Properties"]["PermissionsBoundary"]) == BOUNDARY, name
        assert "PermissionsBoundary" not in off.resources[name]["Properties"], name
    # A function SAM gave its own role would escape the parameter: the template names its role.
    assert function(on)["Role"] == {"Fn::GetAtt": ["FunctionRole", "Arn"]}


@pytest.mark.parametrize("mode", SRC_MODES)
def test_source_permissions_boundary_on_every_role(mode):
    overrides = SRC_MODES[mode][0]
    on = src({**overrides, "PermissionsBoundaryArn": BOUNDARY})
    for name in on.of_type("AWS::IAM::Role"):
        assert on.eval(on.resources[name]["Properties"]["PermissionsBoundary"]) == BOUNDARY, name
    for name in src(overrides).of_type("AWS::IAM::Role"):
        assert "PermissionsBoundary" not in src(overrides).resources[name]["Properties"]
    assert allowed(SRC, "PermissionsBoundaryArn", "arn:aws-us-gov:iam::aws:policy/x")
    assert not allowed(SRC, "PermissionsBoundaryArn", "arn:aws:iam::1:policy/x")


def test_every_role_after_the_sam_transform_takes_the_boundary(translated):
    s = Scenario({"PermissionsBoundaryArn": BOUNDARY, "SourceAccountIds": SOURCE_ACCOUNTS, **VPC_ON}, tpl=translated)
    roles = s.of_type("AWS::IAM::Role")
    assert set(roles) == {"FunctionRole", "FirehoseRole", "SubscriptionRole", "LogsDestinationRole", "DigestFunctionRole",
                          "ReplayFunctionRole"}
    for name, role in roles.items():
        assert s.eval(role["Properties"]["PermissionsBoundary"]) == BOUNDARY, name


@pytest.mark.parametrize("policy", ["Enforce", "Warn"])
def test_code_signing(policy, translated):
    profiles = f"{SIGNING},{SIGNING[:-10]}f6g7h8i9j0"
    for tpl in (TPL, translated):
        s = Scenario({"SigningProfileVersionArns": profiles, "UntrustedArtifactOnDeployment": policy}, tpl=tpl)
        csc = s.resources["CodeSigningConfig"]["Properties"]
        assert s.eval(csc["AllowedPublishers"]["SigningProfileVersionArns"]) == profiles.split(",")
        assert csc["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": {"Ref": "UntrustedArtifactOnDeployment"}}
        assert s.eval(csc["CodeSigningPolicies"]["UntrustedArtifactOnDeployment"]) == policy
        # Every function the stack deploys, the digest function too, runs only signed code.
        functions = [*s.of_type("AWS::Serverless::Function"), *s.of_type("AWS::Lambda::Function")]
        assert len(functions) >= 2, functions
        for name in functions:
            arn = s.resources[name]["Properties"]["CodeSigningConfigArn"]
            assert arn == {"Fn::GetAtt": ["CodeSigningConfig", "CodeSigningConfigArn"]}, name
    assert TPL["Parameters"]["UntrustedArtifactOnDeployment"]["Default"] == "Enforce"
    assert not allowed(TPL, "SigningProfileVersionArns", "arn:aws:signer:xx-test-1:999999999999:/signing-profiles/p")


# ----------------------------------------------------------------------------- signed digests
DIGEST_SOURCE = (REPO / "src" / "adapters" / "digest.rs").read_text()


def test_digest_key_signs_for_the_digest_function_only():
    key = Scenario().resources["DigestKey"]["Properties"]
    assert key["KeySpec"] == "ECC_NIST_P256" and key["KeyUsage"] == "SIGN_VERIFY"
    sts = statements(key["KeyPolicy"])
    allowed_to_sign = [st for st in sts if st["Effect"] == "Allow"
                       and any(a in ("kms:Sign", "kms:*") for a in as_list(st["Action"]))]
    assert [st["Principal"] for st in allowed_to_sign] == [{"AWS": {"Fn::GetAtt": ["DigestFunctionRole", "Arn"]}}]
    for st in sts:
        assert not any(a.endswith("*") for a in as_list(st["Action"])), st
    (deny,) = [st for st in sts if st["Effect"] == "Deny"]
    assert deny["Action"] == "kms:Sign"
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": ["DigestFunctionRole", "Arn"]}}}
    # The account (auditors through IAM) reads the public key and verifies.
    (admin,) = [st for st in sts if st["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}]
    assert {"kms:GetPublicKey", "kms:Verify"} <= set(admin["Action"])


def test_digest_function_least_privilege():
    s = Scenario()
    fn = s.resources["DigestFunction"]
    p = fn["Properties"]
    assert fn["Metadata"]["BuildProperties"]["Binary"] == "cwl-firehose-digest-lambda"
    assert p["Role"] == {"Fn::GetAtt": ["DigestFunctionRole", "Arn"]}
    assert p["ReservedConcurrentExecutions"] == 1
    env = p["Environment"]["Variables"]
    assert env["DIGEST_BUCKET"] == {"Ref": "LogBucket"}
    assert env["DIGEST_KEY_ID"] == {"Fn::GetAtt": ["DigestKey", "Arn"]}
    # Every variable the function reads, and no other.
    for name in ("DIGEST_BUCKET", "DIGEST_KEY_ID", "DIGEST_PREFIX", "DIGEST_LATE_ARRIVAL_SECONDS"):
        assert f'"{name}"' in DIGEST_SOURCE, name
    assert s.eval(p["Events"]["Interval"]["Properties"]["Schedule"]) == "rate(60 minutes)"
    pol = s.resources["DigestFunctionPolicy"]["Properties"]
    assert pol["Roles"] == [{"Ref": "DigestFunctionRole"}]
    sts = statements(pol["PolicyDocument"])
    actions = {a for st in sts for a in as_list(st["Action"])}
    assert not any(a.startswith("s3:Delete") for a in actions)
    assert "kms:Sign" in actions
    for st in sts:
        if "*" in as_list(st["Resource"]):
            assert all(a.startswith("xray:") for a in as_list(st["Action"])), st
        if "s3:PutObject" in as_list(st["Action"]):
            assert st["Resource"] == {"Fn::Sub": "${LogBucket.Arn}/digests/*"}
    assert env["DIGEST_PREFIX"] == "digests/"


def test_digest_alarms_read_what_the_function_writes():
    s = Scenario()
    namespace = re.search(r'METRICS_NAMESPACE: &str = "([^"]+)"', DIGEST_SOURCE).group(1)
    missing = s.resources["DigestMissingAlarm"]["Properties"]
    finding = s.resources["IntegrityFindingAlarm"]["Properties"]
    for alarm, metric in [(missing, "DigestsWritten"), (finding, "IntegrityFindings")]:
        assert alarm["Namespace"] == namespace
        assert alarm["MetricName"] == metric and f'"{metric}"' in DIGEST_SOURCE
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "DigestFunction"}}]
    # A function that does not run writes nothing: missing data must alarm.
    assert missing["TreatMissingData"] == "breaching"
    assert s.eval(missing["Period"]) == "7200"
    assert finding["TreatMissingData"] == "notBreaching" and finding["Threshold"] == 0


# ----------------------------------------------------------------------------- replay of processing-failed/
RECOVER_SOURCE = (REPO / "src" / "adapters" / "recover.rs").read_text()


@pytest.mark.parametrize("kinesis", ["", KINESIS_ARN])
def test_replay_function_least_privilege(kinesis):
    s = Scenario({"SourceKinesisStreamArn": kinesis})
    fn = s.resources["ReplayFunction"]
    p = fn["Properties"]
    assert fn["Metadata"]["BuildProperties"]["Binary"] == "cwl-firehose-replay-lambda"
    assert p["Role"] == {"Fn::GetAtt": ["ReplayFunctionRole", "Arn"]}
    assert p["ReservedConcurrentExecutions"] == 1
    env = p["Environment"]["Variables"]
    replay_vars = {k for k in env if k.startswith("REPLAY_")}
    # Every REPLAY_ variable the function is given, it reads.
    for name in replay_vars:
        assert f'"{name}"' in RECOVER_SOURCE, name
    assert env["REPLAY_BUCKET"] == {"Ref": "LogBucket"}
    assert env["REPLAY_DELIVERY_STREAM_ARN"] == {"Fn::GetAtt": ["DeliveryStream", "Arn"]}
    assert ("REPLAY_SOURCE_KINESIS_STREAM_ARN" in s.resolve(env)) == bool(kinesis)
    # The error output the stream writes: its ErrorOutputPrefix with the processing-failed type.
    (stream,) = [r for n, r in s.resources.items() if n == "DeliveryStream"]
    error_prefix = s.eval(stream["Properties"]["ExtendedS3DestinationConfiguration"]["ErrorOutputPrefix"])
    assert error_prefix.replace("!{firehose:error-output-type}", "processing-failed").startswith(env["REPLAY_PREFIX"])
    # Decided with the transformation function's settings.
    transform_env = s.resources["LogsProcessorFunction"]["Properties"]["Environment"]["Variables"]
    for name in ("INFLATE_CAP", "RESPONSE_BUDGET", "OUTPUT_FORMAT", "MERGE_COLUMNS", "MASK_PAN",
                 "EVENT_FILTERS", "LAMBDA_FORMAT", "STATIC_FIELDS", "DROP_MESSAGES", "KEEP_MESSAGES"):
        assert env[name] == transform_env[name], name
    assert s.eval(p["Events"]["Interval"]["Properties"]["Schedule"]) == "rate(60 minutes)"
    pol = s.resources["ReplayFunctionPolicy"]["Properties"]
    assert pol["Roles"] == [{"Ref": "ReplayFunctionRole"}]
    sts = s.resolve(statements(pol["PolicyDocument"]))
    actions = {a for st in sts for a in as_list(st["Action"])}
    assert not any(a.startswith("s3:Delete") for a in actions)
    assert "firehose:PutRecordBatch" in actions
    assert ("kinesis:PutRecords" in actions) == bool(kinesis)
    for st in sts:
        acts = as_list(st["Action"])
        if "*" in as_list(st["Resource"]):
            assert all(a.startswith("xray:") for a in acts), st
        if "s3:PutObject" in acts:
            assert st["Resource"] == {"Fn::Sub": "${LogBucket.Arn}/replay/*"}
        if "s3:GetObject" in acts:
            assert st["Resource"] == [{"Fn::Sub": "${LogBucket.Arn}/processing-failed/processing-failed/*"},
                                      {"Fn::Sub": "${LogBucket.Arn}/replay/*"}]
        if "s3:ListBucket" in acts:
            assert st["Condition"]["StringLike"]["s3:prefix"] == ["processing-failed/processing-failed/*", "replay/*"]


def test_replay_alarms_and_dashboard_read_what_the_function_writes():
    s = Scenario()
    namespace = re.search(r'METRICS_NAMESPACE: &str = "([^"]+)"', RECOVER_SOURCE).group(1)
    alarm = s.resources["ReplayQuarantineAlarm"]["Properties"]
    assert alarm["Namespace"] == namespace
    assert alarm["MetricName"] == "RecordsQuarantined" and '"RecordsQuarantined"' in RECOVER_SOURCE
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "ReplayFunction"}}]
    assert alarm["Threshold"] == 0 and alarm["TreatMissingData"] == "notBreaching"
    body = s.eval(s.resources["Dashboard"]["Properties"]["DashboardBody"])
    for metric in ("RecordsReplayed", "RecordsQuarantined"):
        assert f'"{namespace}","{metric}"' in body, metric
        assert f'"{metric}"' in RECOVER_SOURCE
    assert "ReplayQuarantineAlarm" in str(s.resources["Dashboard"]["Properties"]["DashboardBody"])
