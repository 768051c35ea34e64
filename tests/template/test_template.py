"""The project's own checks of template.yaml: what cfn-lint and checkov do not cover on this
SAM template (checkov has no Firehose, Glue or Athena-projection checks for CloudFormation).

The template is parsed with the CloudFormation short-form tags (!Ref, !Sub, !If, ...) turned
into their long form, then resolved for each combination of the parameters that switch
branches (OutputLayout, DynamicPartitioning, SourceKinesisStreamArn, ...), so every branch that
a deployment can take is asserted, not only the defaults.
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest
import yaml

# TEMPLATE_UNDER_TEST lets a mutated copy be checked (to see that these tests catch mistakes).
TEMPLATE = Path(os.environ.get("TEMPLATE_UNDER_TEST") or Path(__file__).resolve().parents[2] / "template.yaml")

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
]

FUNCTION_ENV = {
    "INFLATE_CAP",
    "RESPONSE_BUDGET",
    "REINGEST_MAX_ATTEMPTS",
    "OUTPUT_FORMAT",
    "MERGE_JSON_MESSAGE",
    "ADD_TIME",
    "PARTITION_KEYS",
    "MASK_PAN",
    "MASK_PAN_KEEP",
    "RUST_LOG",
}

DYNAMIC_PREFIX = (
    "logs/log_group=!{partitionKeyFromLambda:log_group}/year=!{partitionKeyFromLambda:year}/"
    "month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:day}/"
    "hour=!{partitionKeyFromLambda:hour}/"
)

FIREHOSE_WAIT_SECONDS = 300
KINESIS_ARN = "arn:aws:kinesis:xx-test-1:000000000000:stream/source"


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


def load_template() -> dict:
    with TEMPLATE.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass


TPL = load_template()
RAW = TEMPLATE.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- resolving
NOVALUE = object()


def param_values(overrides: dict | None = None) -> dict:
    values = {k: str(v.get("Default", "")) for k, v in TPL["Parameters"].items()}
    values.update(overrides or {})
    return values


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
    if isinstance(x, dict) and "Ref" in x:
        return params[x["Ref"]]
    return x


class Scenario:
    """The template as CloudFormation would see it for one set of parameter values
    (conditions evaluated, Fn::If branches chosen, AWS::NoValue removed; other intrinsics kept)."""

    def __init__(self, overrides: dict | None = None):
        self.params = param_values(overrides)
        conds = TPL["Conditions"]
        self.conditions = {name: eval_condition(expr, conds, self.params) for name, expr in conds.items()}
        self.resources = {}
        for name, res in TPL["Resources"].items():
            if "Condition" in res and not self.conditions[res["Condition"]]:
                continue
            self.resources[name] = self.resolve(res)

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
}
ALL_SCENARIOS = [dict(zip(SWITCHES, combo)) for combo in itertools.product(*SWITCHES.values())]


def scenario_id(o: dict) -> str:
    return "-".join(
        [o["OutputLayout"], "dynamic" if o["DynamicPartitioning"] == "true" else "time",
         "kinesis" if o["SourceKinesisStreamArn"] else "directput"]
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
    name, fn = s.only("AWS::Serverless::Function")
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
    fn = Scenario().only("AWS::Serverless::Function")[1]["Properties"]
    default, lo, hi = numeric_param_bounds(fn["Timeout"])
    assert default == 120
    assert lo >= 1
    # Every value the parameter accepts stays under Firehose's 5-minute wait.
    assert hi < FIREHOSE_WAIT_SECONDS


def test_function_no_reserved_concurrency_by_default():
    fn = Scenario().only("AWS::Serverless::Function")[1]["Properties"]
    assert "ReservedConcurrentExecutions" not in fn
    capped = Scenario({"ReservedConcurrency": "50"}).only("AWS::Serverless::Function")[1]["Properties"]
    assert capped["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}


@pytest.mark.parametrize("dynamic", ["false", "true"])
def test_function_environment(dynamic):
    fn = Scenario({"DynamicPartitioning": dynamic}).only("AWS::Serverless::Function")[1]["Properties"]
    env = fn["Environment"]["Variables"]
    assert set(env) == FUNCTION_ENV
    for key, value in env.items():
        # Every value is a string once deployed: a literal string or a parameter reference.
        assert isinstance(value, str) or (isinstance(value, dict) and set(value) == {"Ref"}), key
    assert env["PARTITION_KEYS"] == {"Ref": "DynamicPartitioning"}
    assert env["OUTPUT_FORMAT"] == {"Ref": "OutputFormat"}
    assert env["MASK_PAN"] == {"Ref": "MaskPan"}
    params = TPL["Parameters"]
    assert params["InflateCap"]["Default"] == 16777216
    assert params["ResponseBudget"]["Default"] == 6000000
    assert params["ReingestMaxAttempts"]["Default"] == 5
    assert params["OutputFormat"]["AllowedValues"] == ["json", "message"]
    assert params["MaskPanKeep"]["AllowedValues"] == ["first6last4", "last4"]
    assert params["MaskPan"]["Default"] == "true"
    assert fn["KmsKeyArn"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}


# ----------------------------------------------------------------------------- IAM
def function_policy_statements(s: Scenario) -> list[dict]:
    fn = s.only("AWS::Serverless::Function")[1]["Properties"]
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


def test_roles_trust_one_service_each():
    s = Scenario()
    expected = {
        "FunctionRole": "lambda.${AWS::URLSuffix}",
        "FirehoseRole": "firehose.${AWS::URLSuffix}",
        "SubscriptionRole": "logs.${AWS::URLSuffix}",
    }
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
        assert d["Prefix"] == DYNAMIC_PREFIX
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
    fn_group = groups["FunctionLogGroup"]["Properties"]["LogGroupName"]
    assert fn_group == {"Fn::Sub": "/aws/lambda/${LogsProcessorFunction}"}


# ----------------------------------------------------------------------------- Glue / Athena
def test_glue_columns_equal_line_schema(sc):
    cols = [(c["Name"], c["Type"]) for c in sc.table["StorageDescriptor"]["Columns"]]
    assert cols == LINE_SCHEMA
    partition_cols = {c["Name"] for c in sc.table["PartitionKeys"]}
    assert not partition_cols & {c for c, _ in LINE_SCHEMA}, "partition column repeats a data column"


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
        assert cols == ["partition_log_group", "year", "month", "day", "hour"]
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
    assert set(queries) == {"events-per-log-group-per-hour", "errors-last-hour", "deduplicated-events"}
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


def sub_text(node) -> str:
    sub = node["Fn::Sub"]
    return sub if isinstance(sub, str) else sub[0]


def eval_intrinsic(node, params: dict):
    """Evaluates the string functions CloudFormation resolves at deploy time."""
    if isinstance(node, (str, int)):
        return str(node)
    (key, arg), = node.items()
    if key == "Ref":
        return params[arg]
    if key == "Fn::Sub":
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        values = {k: eval_intrinsic(v, params) for k, v in variables.items()}
        return re.sub(r"\$\{([^}!]+)\}", lambda m: values.get(m[1], params.get(m[1], m[0])), text)
    if key == "Fn::Join":
        sep, items = arg
        items = eval_intrinsic(items, params) if isinstance(items, dict) else [eval_intrinsic(i, params) for i in items]
        return sep.join(items)
    if key == "Fn::Split":
        sep, source = arg
        return eval_intrinsic(source, params).split(sep)
    if key == "Fn::Select":
        index, items = arg
        return eval_intrinsic(items, params)[int(index)]
    raise AssertionError(f"unsupported intrinsic {key}")


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
        key = eval_intrinsic(variables["LogGroupKey"], s.params)
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
    } <= set(outputs)


def test_no_hard_coded_account_ids_regions_or_partitions():
    code = "\n".join(line.split(" #", 1)[0] for line in RAW.splitlines() if not line.lstrip().startswith("#"))
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


def test_checkov_skips_are_justified():
    for name, res in TPL["Resources"].items():
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
    out = transform(packaged, {}, NoManagedPolicies())
    types = {r["Type"] for r in out["Resources"].values()}
    assert not any(t.startswith("AWS::Serverless::") for t in types)
    fn = out["Resources"]["LogsProcessorFunction"]
    assert fn["Type"] == "AWS::Lambda::Function"
    assert fn["Properties"]["Runtime"] == "provided.al2023"
    assert fn["Properties"]["Architectures"] == ["arm64"]
    assert fn["Properties"]["TracingConfig"] == {"Mode": "Active"}
    assert out["Rules"] == TPL["Rules"]
