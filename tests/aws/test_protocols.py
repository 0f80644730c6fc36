"""Each wire protocol's error envelope, as botocore parses it: awsJson (sagemaker), restJson
(lexv2-runtime) and awsQuery (sns, sts), for bad signatures and unknown keys. Services not yet
served answer NotImplemented in their own protocol, so botocore still raises ClientError."""

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

CALLS = {
    "sagemaker": lambda c: c.list_models(),
    "lexv2-runtime": lambda c: c.recognize_text(botId="ABCDEFGHIJ", botAliasId="TSTALIASID", localeId="en_US", sessionId="s1", text="hi"),
    "sts": lambda c: c.get_caller_identity(),
}

EXPECTED = {
    # service: (bad signature, unknown key)
    "sagemaker": ("InvalidSignatureException", "UnrecognizedClientException"),
    "lexv2-runtime": ("InvalidSignatureException", "UnrecognizedClientException"),
    "sts": ("SignatureDoesNotMatch", "InvalidClientTokenId"),
}


def _client(hearth, service, key_id, secret):
    import boto3

    return boto3.client(
        service,
        endpoint_url=hearth.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.mark.parametrize("service", sorted(CALLS))
def test_rejections_use_the_protocol_envelope(hearth, service):
    good_key = hearth.creds.access_key_id
    bad_sig, unknown = EXPECTED[service]
    for key_id, code in ((good_key, bad_sig), ("AKIAUNKNOWN000000000", unknown)):
        with pytest.raises(ClientError) as err:
            CALLS[service](_client(hearth, service, key_id, "x" * 40))
        assert err.value.response["Error"]["Code"] == code
        # awsJson services answer 400, restJson (API Gateway) and awsQuery 403.
        expected_status = 400 if service == "sagemaker" else 403
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == expected_status
