"""STS GetCallerIdentity (query protocol): who the signing key belongs to."""

import re

import pytest

from awsutil import OTHER_ACCOUNT_ID


def check_identity(identity, account):
    assert re.fullmatch(r"\d{12}", identity["Account"])
    if account is not None:
        assert identity["Account"] == account
    acct = identity["Account"]
    assert identity["Arn"] == f"arn:aws:iam::{acct}:root" or re.fullmatch(
        rf"arn:aws:iam::{acct}:user/[\w+=,.@/-]+", identity["Arn"]
    ), identity["Arn"]
    assert identity["UserId"]
    if identity["Arn"].endswith(":root"):
        assert identity["UserId"] == acct  # the root identity's UserId is the account id


def test_default_account_identity(sts):
    check_identity(sts.get_caller_identity(), None)


def test_other_account_identity(hearth):
    identity = hearth.client("sts", account="other").get_caller_identity()
    check_identity(identity, OTHER_ACCOUNT_ID)


def test_accounts_differ(hearth, sts):
    mine = sts.get_caller_identity()["Account"]
    theirs = hearth.client("sts", account="other").get_caller_identity()["Account"]
    assert mine != theirs


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_regional_sts(hearth, region):
    identity = hearth.client("sts", region=region).get_caller_identity()
    assert identity["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert identity["ResponseMetadata"]["RequestId"]
