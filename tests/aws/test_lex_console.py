"""The console's Lex page (`/console/lex`) in headless Chromium, as a bot designer uses it after
launch (the seed's post: review the missed utterances, add them to an intent, rebuild):

- utterances that went to the fallback intent are listed for the bot locale, ranked by how often
  they were missed (the ListAggregatedUtterances data), with their detected counts;
- "Add as sample utterance" with an intent chosen from the list updates the intent (boto3's
  DescribeIntent shows the new sample) and leaves the locale `NotBuilt`, which the page shows;
- the page's Build button builds the locale; once `Built`, the bot recognises the utterance.

Browser setup and screenshots as in test_console.py (`HEARTH_UPDATE_SCREENSHOTS=1` writes
docs/console/lex.png).
"""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from awsutil import unique_name
from test_console import browser, page, screenshot_path, sign_in  # noqa: F401 (fixtures)
from test_lex import LOCALE, ROLE, lex_model, wait_built  # noqa: F401 (fixture)


def say(runtime, bot_id, text):
    return runtime.recognize_text(botId=bot_id, botAliasId="TSTALIASID", localeId=LOCALE, sessionId="s-" + uuid.uuid4().hex[:12], text=text)


def test_missed_utterance_becomes_a_sample_after_a_rebuild(hearth, lex_model, page, tmp_path):  # noqa: F811
    models, runtime = hearth.client("lexv2-models"), hearth.client("lexv2-runtime")
    name = unique_name("SupportBot")
    bot_id = models.create_bot(botName=name, roleArn=ROLE, dataPrivacy={"childDirected": False}, idleSessionTTLInSeconds=300)["botId"]
    models.create_bot_locale(botId=bot_id, botVersion="DRAFT", localeId=LOCALE, nluIntentConfidenceThreshold=0.4)
    intents = {
        "CheckOrderStatus": ["where is my order", "track my package", "has my parcel shipped", "when will my delivery arrive"],
        "ResetPassword": ["I forgot my password", "reset my password", "I can't log in", "change my login password"],
    }
    ids = {}
    for intent, utterances in intents.items():
        ids[intent] = models.create_intent(
            botId=bot_id, botVersion="DRAFT", localeId=LOCALE, intentName=intent,
            sampleUtterances=[{"utterance": u} for u in utterances],
        )["intentId"]
    models.build_bot_locale(botId=bot_id, botVersion="DRAFT", localeId=LOCALE)
    assert wait_built(models, bot_id)["botLocaleStatus"] == "Built"

    missed = "can I pay with bitcoin"
    shown = missed.lower()  # ListAggregatedUtterances groups utterances in lower case
    for _ in range(3):
        r = say(runtime, bot_id, missed)
        assert r["sessionState"]["intent"]["name"] == "FallbackIntent"
    r = say(runtime, bot_id, "what is the meaning of life")
    assert r["sessionState"]["intent"]["name"] == "FallbackIntent"
    assert say(runtime, bot_id, "where is my order")["sessionState"]["intent"]["name"] == "CheckOrderStatus"

    sign_in(page, hearth, next_path="/console/lex")
    page.locator("#bot").select_option(bot_id)
    rows = page.locator("#missed tbody tr")
    expect(rows).to_have_count(2)
    top = rows.first
    expect(top).to_contain_text(shown)
    expect(top.locator("td").nth(1)).to_have_text("3")
    expect(rows.nth(1)).to_contain_text("what is the meaning of life")
    expect(page.locator("#missed")).not_to_contain_text("where is my order")
    expect(page.locator("#locale-status")).to_have_text("Built")
    page.screenshot(path=str(screenshot_path("lex.png", tmp_path)), full_page=True)

    top.get_by_label("Intent").select_option(label="CheckOrderStatus")
    top.get_by_role("button", name="Add as sample utterance").click()
    expect(page.locator("#notice")).to_contain_text(f"Added “{shown}” to CheckOrderStatus")
    expect(page.locator("#locale-status")).to_have_attribute("data-status", "NotBuilt")
    expect(page.locator("#build")).to_be_visible()
    described = models.describe_intent(botId=bot_id, botVersion="DRAFT", localeId=LOCALE, intentId=ids["CheckOrderStatus"])
    assert shown in [u["utterance"] for u in described["sampleUtterances"]]
    assert len(described["sampleUtterances"]) == 5
    loc = models.describe_bot_locale(botId=bot_id, botVersion="DRAFT", localeId=LOCALE)
    assert loc["botLocaleStatus"] == "NotBuilt"

    page.locator("#build").click()
    expect(page.locator("#locale-status")).to_have_text("Built", timeout=60_000)
    expect(page.locator("#notice")).to_contain_text("The locale is built")
    r = say(runtime, bot_id, missed)
    assert r["sessionState"]["intent"]["name"] == "CheckOrderStatus"
    assert r["interpretations"][0]["nluConfidence"]["score"] == 1.0
    assert not page.errors, page.errors
