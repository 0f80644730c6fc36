"""SNS through boto3: topics, attributes, tags, subscriptions and the errors AWS answers.

Deliveries (HTTP endpoints, email, restarts) are in test_sns_http.py and test_sns_email.py.
"""

import json

import pytest
import requests

from awsutil import aws_error, unique_name, xml_error

DEFAULT_EFFECTIVE_POLICY = (
    '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,'
    '"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},'
    '"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}'
)


@pytest.fixture(scope="module")
def sns(hearth):
    return hearth.client("sns")


@pytest.fixture
def topic(sns):
    return sns.create_topic(Name=unique_name("topic"))["TopicArn"]


def test_topic_lifecycle(sns, hearth):
    name = unique_name("orders")
    arn = sns.create_topic(Name=name)["TopicArn"]
    account = hearth.client("sts").get_caller_identity()["Account"]
    assert arn == f"arn:aws:sns:us-east-1:{account}:{name}"
    # Idempotent by name, also with the same attributes spelled out.
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert sns.create_topic(Name=name, Attributes={"FifoTopic": "false"})["TopicArn"] == arn
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]

    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # idempotent
    with aws_error("NotFound", 404, "Topic does not exist"):
        sns.get_topic_attributes(TopicArn=arn)


def test_list_topics_pages_by_100(sns):
    prefix = unique_name("page")
    made = [sns.create_topic(Name=f"{prefix}-{i:03}")["TopicArn"] for i in range(101)]
    seen, token, pages = [], None, 0
    while True:
        page = sns.list_topics(**({"NextToken": token} if token else {}))
        assert len(page["Topics"]) <= 100
        seen += [t["TopicArn"] for t in page["Topics"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages >= 2
    assert set(made) <= set(seen)
    assert len(seen) == len(set(seen))
    paginated = [t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]]
    assert paginated == seen
    for arn in made:
        sns.delete_topic(TopicArn=arn)


def test_topic_attributes(sns, topic, hearth):
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    account = topic.split(":")[4]
    assert attrs["TopicArn"] == topic
    assert attrs["Owner"] == account
    assert attrs["DisplayName"] == ""
    assert attrs["SubscriptionsConfirmed"] == attrs["SubscriptionsPending"] == attrs["SubscriptionsDeleted"] == "0"
    assert attrs["EffectiveDeliveryPolicy"] == DEFAULT_EFFECTIVE_POLICY
    policy = json.loads(attrs["Policy"])
    assert policy["Statement"][0]["Resource"] == topic
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"AWS:SourceOwner": account}}
    assert "SNS:Publish" in policy["Statement"][0]["Action"]

    sns.set_topic_attributes(TopicArn=topic, AttributeName="DisplayName", AttributeValue="Fraud alerts")
    delivery = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 5, "numRetries": 4}}}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(delivery))
    sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attrs["DisplayName"] == "Fraud alerts"
    assert attrs["SignatureVersion"] == "2"
    assert json.loads(attrs["DeliveryPolicy"]) == delivery
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])["http"]
    assert effective["defaultHealthyRetryPolicy"]["numRetries"] == 4
    assert effective["defaultHealthyRetryPolicy"]["maxDelayTarget"] == 5
    assert effective["defaultRequestPolicy"] == {"headerContentType": "text/plain; charset=UTF-8"}

    for name, value in [("FifoTopic", "true"), ("Nonsense", "1")]:
        with aws_error("InvalidParameter", 400, "Invalid parameter: AttributeName"):
            sns.set_topic_attributes(TopicArn=topic, AttributeName=name, AttributeValue=value)
    for name, value in [
        ("DeliveryPolicy", "{not json"),
        ("DeliveryPolicy", json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}})),
        ("SignatureVersion", "3"),
        ("Policy", "[]"),
    ]:
        with aws_error("InvalidParameter", 400, f"Invalid parameter: {name}"):
            sns.set_topic_attributes(TopicArn=topic, AttributeName=name, AttributeValue=value)


def test_create_topic_errors(sns):
    for bad in ["has space", "dots.not.allowed", "a" * 257, "", "name.fifo"]:
        with aws_error("InvalidParameter", 400, "Invalid parameter: Topic Name"):
            sns.create_topic(Name=bad)
    with aws_error("InvalidParameter", 400, "Invalid parameter: Topic Name"):
        sns.create_topic(Name=unique_name("nofifo"), Attributes={"FifoTopic": "true"})
    name = unique_name("attrs")
    sns.create_topic(Name=name, Attributes={"DisplayName": "one"}, Tags=[{"Key": "team", "Value": "fraud"}])
    with aws_error("InvalidParameter", 400, "Invalid parameter: Attributes Reason: Topic already exists with different attributes"):
        sns.create_topic(Name=name, Attributes={"DisplayName": "two"})
    with aws_error("InvalidParameter", 400, "Invalid parameter: Tags Reason: Topic already exists with different tags"):
        sns.create_topic(Name=name, Tags=[{"Key": "team", "Value": "ops"}])
    with aws_error("InvalidParameter", 400, "Invalid parameter: Attributes Reason: Invalid attribute name: Colour"):
        sns.create_topic(Name=unique_name(), Attributes={"Colour": "red"})
    with aws_error("InvalidParameter", 400, "Invalid parameter: Duplicated keys are not allowed."):
        sns.create_topic(Name=unique_name(), Tags=[{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}])


def test_fifo_topic(sns):
    name = unique_name("fifo") + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["FifoTopic"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    with aws_error("InvalidParameter", 400, "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"):
        sns.publish(TopicArn=arn, Message="m")
    with aws_error("InvalidParameter", 400, "ContentBasedDeduplication enabled or MessageDeduplicationId"):
        sns.publish(TopicArn=arn, Message="m", MessageGroupId="g")
    out = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d1")
    assert out["MessageId"] and out["SequenceNumber"]


def test_malformed_and_missing_arns(sns, topic):
    missing = topic + "-gone"
    with aws_error("InvalidParameter", 400, "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"):
        sns.get_topic_attributes(TopicArn="orders")
    with aws_error("InvalidParameter", 400, "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 2"):
        sns.publish(TopicArn="arn:orders", Message="m")
    with aws_error("NotFound", 404, "Topic does not exist"):
        sns.publish(TopicArn=missing, Message="m")
    with aws_error("NotFound", 404, "Topic does not exist"):
        sns.subscribe(TopicArn=missing, Protocol="email", Endpoint="ops@example.com")
    with aws_error("NotFound", 404, "Topic does not exist"):
        sns.list_subscriptions_by_topic(TopicArn=missing)
    with aws_error("InvalidParameter", 400, "Invalid parameter: TopicArn"):
        sns.get_topic_attributes(TopicArn=topic.replace("us-east-1", "eu-west-1"))
    with aws_error("InvalidParameter", 400, "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"):
        sns.unsubscribe(SubscriptionArn="nope")
    with aws_error("InvalidParameter", 400, "Invalid parameter: SubscriptionId"):
        sns.unsubscribe(SubscriptionArn=topic)
    sns.unsubscribe(SubscriptionArn=topic + ":00000000-0000-0000-0000-000000000000")  # idempotent
    with aws_error("NotFound", 404, "Subscription does not exist"):
        sns.get_subscription_attributes(SubscriptionArn=topic + ":00000000-0000-0000-0000-000000000000")
    with aws_error("InvalidParameter", 400, "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"):
        sns.publish(Message="m")


def test_publish_validation(sns, topic):
    assert sns.publish(TopicArn=topic, Message="no subscribers yet")["MessageId"]
    with aws_error("InvalidParameter", 400, "Invalid parameter: Empty message"):
        sns.publish(TopicArn=topic, Message="")
    for subject in ["", "line\nbreak", "x" * 101]:
        with aws_error("InvalidParameter", 400, "Invalid parameter: Subject"):
            sns.publish(TopicArn=topic, Message="m", Subject=subject)
    with aws_error("InvalidParameter", 400, "Invalid parameter: Message too long"):
        sns.publish(TopicArn=topic, Message="x" * (256 * 1024 + 1))
    with aws_error("InvalidParameter", 400, "Invalid parameter: Message Structure - JSON message body failed to parse"):
        sns.publish(TopicArn=topic, Message="{", MessageStructure="json")
    with aws_error("InvalidParameter", 400, "Invalid parameter: Message Structure - No default entry in JSON message body"):
        sns.publish(TopicArn=topic, Message='{"email": "x"}', MessageStructure="json")
    with aws_error("InvalidParameter", 400, "MessageDeduplicationId parameter that is not valid for this topic type"):
        sns.publish(TopicArn=topic, Message="m", MessageDeduplicationId="d")
    cases = [
        ({".a": {"DataType": "String", "StringValue": "v"}}, "Invalid message attribute name starting with character '.' was found."),
        ({"a^b": {"DataType": "String", "StringValue": "v"}}, "Invalid non-alphanumeric character '#x5E' was found in the message attribute name."),
        ({"attr1": {"DataType": "Float", "StringValue": "1"}}, "The message attribute 'attr1' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."),
        ({"attr1": {"DataType": "String", "StringValue": ""}}, "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'String'."),
        ({"attr1": {"DataType": "Number", "StringValue": "ten"}}, "Could not cast message attribute 'attr1' value to number."),
        ({"attr1": {"DataType": "Binary", "StringValue": "x"}}, "The message attribute 'attr1' with type 'Binary' must use field 'Binary'."),
    ]
    for attrs, message in cases:
        with aws_error("ParameterValueInvalid", 400, message):
            sns.publish(TopicArn=topic, Message="m", MessageAttributes=attrs)


def test_subscribe_validation(sns, topic):
    with aws_error("InvalidParameter", 400, "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"):
        sns.subscribe(TopicArn=topic, Protocol="carrier-pigeon", Endpoint="x")
    with aws_error("InvalidParameter", 400, "Invalid parameter: Endpoint must match the specified protocol"):
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="https://example.com/hook")
    with aws_error("InvalidParameter", 400, "Invalid parameter: Email address"):
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="not-an-address")
    with aws_error("InvalidParameter", 400, "does not support raw message delivery"):
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com", Attributes={"RawMessageDelivery": "true"})
    with aws_error("InvalidParameter", 400, "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [maybe]. Must be true or false."):
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/x", Attributes={"RawMessageDelivery": "maybe"})
    with aws_error("InvalidParameter", 400, "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON."):
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com", Attributes={"FilterPolicy": "{bad"})
    with aws_error("InvalidParameter", 400, "Hearth does not deliver to sqs endpoints"):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:q")


def test_pending_subscriptions_are_listed_and_idempotent(sns, topic):
    # Port 9 (discard) refuses connections: the confirmation keeps failing and the subscription stays pending.
    endpoint = "http://127.0.0.1:9/hook"
    first = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
    assert first["SubscriptionArn"] == "pending confirmation"
    arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint, ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subs == [{"SubscriptionArn": "PendingConfirmation", "Owner": topic.split(":")[4], "Protocol": "http", "Endpoint": endpoint, "TopicArn": topic}]
    assert any(s["TopicArn"] == topic for s in sns.list_subscriptions()["Subscriptions"])
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "true"
    assert attrs["RawMessageDelivery"] == "false"
    assert attrs["Endpoint"] == endpoint
    assert json.loads(attrs["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 3
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "1"
    with aws_error("InvalidParameter", 400, "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"):
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint, Attributes={"RawMessageDelivery": "true"})

    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="True")
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue='{"kind": ["refund"]}')
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attrs["RawMessageDelivery"] == "true"
    assert attrs["FilterPolicyScope"] == "MessageAttributes"
    with aws_error("InvalidParameter", 400, "Invalid parameter: AttributeName"):
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="Colour", AttributeValue="red")
    with aws_error("InvalidParameter", 400, "Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false."):
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="")

    sns.unsubscribe(SubscriptionArn=arn)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attrs["SubscriptionsPending"], attrs["SubscriptionsDeleted"]) == ("0", "1")


def test_confirm_subscription_errors(sns, topic, hearth):
    token = "51b2ff3edb475b7d91550e0ab6edf0c1de2a34e6ebaf6c2262a001bcb7"
    with aws_error("InvalidParameter", 400, "Invalid token"):
        sns.confirm_subscription(TopicArn=topic, Token="randomtoken")
    with aws_error("InvalidParameter", 400, "Invalid parameter: Token"):
        sns.confirm_subscription(TopicArn=topic, Token=token)
    with aws_error("InvalidParameter", 400, "Invalid parameter: Topic"):
        sns.confirm_subscription(TopicArn="not-an-arn", Token=token)
    # The unsigned link answers the same errors in AWS's XML envelope.
    r = requests.get(f"{hearth.endpoint}/sns/confirm", params={"TopicArn": topic, "Token": "abc123"}, timeout=10)
    assert r.status_code == 400
    assert xml_error(r) == ("InvalidParameter", "Invalid parameter: Token")


def test_tags(sns, topic):
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == []
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "team", "Value": "fraud"}, {"Key": "env", "Value": "dev"}])
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "env", "Value": "prod"}])
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "team", "Value": "fraud"}, {"Key": "env", "Value": "prod"}]
    sns.untag_resource(ResourceArn=topic, TagKeys=["team", "absent"])
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "env", "Value": "prod"}]
    with aws_error("TagLimitExceeded", 400):
        sns.tag_resource(ResourceArn=topic, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with aws_error("ResourceNotFound", 404, "Resource does not exist"):
        sns.list_tags_for_resource(ResourceArn=topic + "-gone")


def test_accounts_are_isolated(hearth, sns, topic):
    other = hearth.client("sns", account="other")
    assert topic not in [t["TopicArn"] for t in other.list_topics()["Topics"]]
    with aws_error("AuthorizationError", 403):
        other.publish(TopicArn=topic, Message="m")
    with aws_error("AuthorizationError", 403):
        other.get_topic_attributes(TopicArn=topic)
    # The same name in the other account is another topic.
    name = topic.split(":")[-1]
    theirs = other.create_topic(Name=name)["TopicArn"]
    assert theirs == topic.replace(topic.split(":")[4], "111111111111")
