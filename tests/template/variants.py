"""Copies of the two templates with other parameter defaults, for the linters.

cfn-lint, `sam validate --lint` and checkov judge a template as its defaults render it (checkov
resolves the conditions with the defaults and skips what they switch off), so each option that
adds resources or properties is linted in a copy whose defaults switch it on. The copies are made
textually (the `Default:` line of each parameter), so the short-form tags stay as written, and a
checkov skip that only the defaults need can be dropped from a copy, so that the check has to
pass there.

    python variants.py OUTDIR   writes the copies and prints "FILE<TAB>CHECKS THAT MUST PASS"

test_template.py loads the same copies and checks that each differs from its template only in
those defaults and skips.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SUBNETS = "subnet-0123456789abcdef0,subnet-0fedcba9876543210"
VPC = "vpc-0123456789abcdef0"
KINESIS = "arn:aws:kinesis:us-east-1:123456789012:stream/source"
BOUNDARY = "arn:aws:iam::123456789012:policy/pci-workload-boundary"
SIGNING = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/cwl_firehose/a1b2c3d4e5"

# name -> (template, parameter defaults, checkov skips dropped (each must then pass))
VARIANTS: dict[str, tuple[str, dict[str, str], list[str]]] = {
    # The stack creates the function's security group and both endpoints (Kinesis source).
    "template-vpc.yaml": (
        "template.yaml",
        {"SubnetIds": SUBNETS, "VpcId": VPC, "SourceKinesisStreamArn": KINESIS},
        ["CKV_AWS_117"],
    ),
    # Existing endpoints without private DNS, reached through the account's own security groups.
    "template-vpc-existing-endpoints.yaml": (
        "template.yaml",
        {"SubnetIds": SUBNETS, "VpcId": VPC, "VpcEndpoints": "existing",
         "SecurityGroupIds": "sg-0123456789abcdef0,sg-0fedcba9876543210",
         "FirehoseEndpointUrl": "https://vpce-0123456789abcdef0-abcdefgh.firehose.us-east-1.vpce.amazonaws.com"},
        ["CKV_AWS_117"],
    ),
    # Every role the template can create, each with the boundary.
    "template-boundary.yaml": (
        "template.yaml",
        {"PermissionsBoundaryArn": BOUNDARY, "SourceAccountIds": "111111111111"},
        [],
    ),
    "template-signing.yaml": (
        "template.yaml",
        {"SigningProfileVersionArns": SIGNING, "UntrustedArtifactOnDeployment": "Warn"},
        [],
    ),
    # A subscription that emits system fields; Lambda's and the static fields as columns.
    "template-enrich.yaml": (
        "template.yaml",
        {"SourceLogGroupName": "/ecs/api", "EmitSystemFields": "true", "LambdaFormat": "true",
         "StaticFields": "env=prod,pci_scope=cde", "DropMessages": "^DEBUG",
         "LogGroupTags": "team,cost_center=CostCenter"},
        [],
    ),
    # The source template's role exists only with DestinationGrantsOrganization=true.
    "source-account-organization.yaml": (
        "templates/source-account.yaml",
        {"DestinationGrantsOrganization": "true"},
        [],
    ),
    "source-account-boundary.yaml": (
        "templates/source-account.yaml",
        {"DestinationGrantsOrganization": "true", "PermissionsBoundaryArn": BOUNDARY},
        [],
    ),
}


def with_default(text: str, name: str, value: str) -> str:
    """The template text with parameter `name`'s Default set to `value` (added if missing)."""
    lines = text.splitlines(keepends=True)
    params = lines.index("Parameters:\n")
    start = lines.index(f"  {name}:\n", params)
    end = next(i for i in range(start + 1, len(lines)) if re.match(r"(  )?\S", lines[i]))
    default = f"    Default: {quote(value)}\n"
    for i in range(start + 1, end):
        if lines[i].startswith("    Default:"):
            lines[i] = default
            break
    else:
        lines.insert(start + 1, default)
    return "".join(lines)


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# The resource whose skips a copy drops: the transformation function (the digest and replay
# functions keep their own skips, they are not placed in the VPC).
DROPPED_FROM = "LogsProcessorFunction"


def without_skip(text: str, check: str) -> str:
    """The template text without DROPPED_FROM's checkov skip of `check` (its `- id:` line and
    everything indented under it)."""
    lines = text.splitlines(keepends=True)
    first = lines.index(f"  {DROPPED_FROM}:\n", lines.index("Resources:\n"))
    last = next((i for i in range(first + 1, len(lines)) if re.match(r"(  )?\S", lines[i])), len(lines))
    (start,) = [i for i in range(first, last) if lines[i].strip() == f"- id: {check}"]
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and len(lines[end]) - len(lines[end].lstrip()) > indent:
        end += 1
    return "".join(lines[:start] + lines[end:])


def render(name: str) -> str:
    template, defaults, dropped = VARIANTS[name]
    text = (REPO / template).read_text(encoding="utf-8")
    for param, value in defaults.items():
        text = with_default(text, param, value)
    for check in dropped:
        text = without_skip(text, check)
    return text


def main(outdir: str) -> None:
    for name, (_, _, dropped) in VARIANTS.items():
        path = Path(outdir) / name
        path.write_text(render(name), encoding="utf-8")
        print(f"{path}\t{','.join(dropped)}")


if __name__ == "__main__":
    main(sys.argv[1])
