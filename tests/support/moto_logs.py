"""Log groups in the moto server started by tests/group_tags.rs, with boto3
(from moto's own dependencies).

usage: moto_logs.py ENDPOINT create GROUP [KEY=VALUE ...]  (a new group with these tags)
       moto_logs.py ENDPOINT tag GROUP KEY=VALUE ...       (tags set on an existing group)
"""
import sys

import boto3


def main():
    endpoint, command, group = sys.argv[1:4]
    tags = dict(t.split("=", 1) for t in sys.argv[4:])
    logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")
    if command == "create":
        logs.create_log_group(logGroupName=group, **({"tags": tags} if tags else {}))
    elif command == "tag":
        arn = "arn:aws:logs:us-east-1:123456789012:log-group:" + group
        logs.tag_resource(resourceArn=arn, tags=tags)
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
