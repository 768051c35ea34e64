"""Drives moto's S3 and KMS for tests/digest.rs with boto3: makes the bucket
and the signing key, delivers objects, and tampers with them the ways an
auditor must be told about. Prints JSON (or nothing) on stdout.

usage: digest_client.py ENDPOINT COMMAND [ARGS...]
  setup BUCKET [lock]        versioned bucket (with Object Lock, GOVERNANCE 1 day, when "lock")
                             and an ECC_NIST_P256 SIGN_VERIFY key: {"key_id", "public_pem"}
  put BUCKET KEY FILE        one object from a file
  flip BUCKET KEY            the same object with its first byte changed (a new version)
  delete BUCKET KEY          a delete marker (what a plain DeleteObject does)
  restore BUCKET KEY         removes the key's delete marker: its old version is current again
  edit BUCKET KEY            a digest with one character changed, metadata (signature) kept
  get BUCKET KEY             {"body": text, "metadata": {...}, "lock_mode", "retain_until"}
"""
import json
import sys

import boto3
from cryptography.hazmat.primitives import serialization


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="test", aws_secret_access_key="test")
    return boto3.client("s3", **kw), boto3.client("kms", **kw)


def main():
    endpoint, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    s3, kms = clients(endpoint)
    if command == "setup":
        bucket, lock = args[0], args[1:] == ["lock"]
        if lock:
            s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
            s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
        else:
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        der = kms.get_public_key(KeyId=key)["PublicKey"]
        pem = serialization.load_der_public_key(der).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        print(json.dumps({"key_id": key, "public_pem": pem}))
    elif command == "put":
        bucket, key, path = args
        with open(path, "rb") as f:
            s3.put_object(Bucket=bucket, Key=key, Body=f.read())
    elif command == "flip":
        bucket, key = args
        body = bytearray(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        body[0] ^= 1
        s3.put_object(Bucket=bucket, Key=key, Body=bytes(body))
    elif command == "delete":
        bucket, key = args
        s3.delete_object(Bucket=bucket, Key=key)
    elif command == "restore":
        bucket, key = args
        for m in s3.list_object_versions(Bucket=bucket, Prefix=key).get("DeleteMarkers", []):
            if m["Key"] == key and m["IsLatest"]:
                s3.delete_object(Bucket=bucket, Key=key, VersionId=m["VersionId"])
    elif command == "edit":
        bucket, key = args
        got = s3.get_object(Bucket=bucket, Key=key)
        text = got["Body"].read().decode()
        i = text.index('"size":') + len('"size":')
        text = text[:i] + ("9" if text[i] != "9" else "8") + text[i + 1:]
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode(), Metadata=got["Metadata"])
    elif command == "get":
        bucket, key = args
        got = s3.get_object(Bucket=bucket, Key=key)
        print(json.dumps({"body": got["Body"].read().decode(), "metadata": got["Metadata"],
                          "lock_mode": got.get("ObjectLockMode"),
                          "retain_until": str(got.get("ObjectLockRetainUntilDate"))}))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
