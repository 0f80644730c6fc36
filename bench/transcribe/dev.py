#!/usr/bin/env python3
"""Development set for vocabulary biasing: the audio the biasing constants are chosen on, kept
apart from the benchmark's test set (bench/transcribe/run.py) so the constants are not tuned on
the lines they are reported on. Different sentences, different espeak-ng voices and rates, a
second vocabulary (with a SoundsLike that is a common word: "Nuxt" sounds like "next"), and
clean calls that never say any vocabulary term but say their sound-alikes ("next", "weeks",
"editor", "bookings", "flexible").

Writes `<out>/manifest.json` and the WAVs (16 kHz mono). The manifest is read by the ignored
Rust test `asr::bias::tests::dev_sweep` (`HEARTH_BIAS_DEV=<out>/manifest.json cargo test
--release -p hearth-inference --lib dev_sweep -- --ignored --nocapture`), which decodes every
file with and without each vocabulary under several bias settings and prints term recall,
false terms and WER.

Usage: python bench/transcribe/dev.py OUT_DIR
"""

from __future__ import annotations

import json
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from run import VOCABULARY, synth_call  # noqa: E402

DEV_VOCABULARY = "Phrase\tSoundsLike\tIPA\tDisplayAs\nNuxt\tnext\t\tNuxt\nVercel\tver-sell\t\tVercel\nKlaviyo\tclay-vee-oh\t\tKlaviyo\nZuora\t\t\tZuora\nTwilio-Flex\t\t\tTwilio Flex\n"

TERMS = [
    ("We deploy the shop with Nuxt on Vercel.", ["Nuxt", "Vercel"], "dev"),
    ("Klaviyo sends the welcome emails.", ["Klaviyo"], "dev"),
    ("Invoices come from Zuora every month.", ["Zuora"], "dev"),
    ("The agents answer calls in Twilio Flex.", ["Twilio", "Flex"], "dev"),
    ("Move the checkout page to Nuxt before Friday.", ["Nuxt"], "dev"),
    ("Sync the customer list from Klaviyo to Zuora.", ["Klaviyo", "Zuora"], "dev"),
    ("Vercel preview links expire after a while.", ["Vercel"], "dev"),
    ("The Velo backend runs my custom code.", ["Velo"], "bench"),
    ("Wix hosts our online store.", ["Wix"], "bench"),
    ("The Ascend campaign went out on Monday.", ["Ascend"], "bench"),
    ("Resize the header in Editor X.", ["Editor", "X"], "bench"),
]

CALLS = [
    [
        "Hello, thanks for holding, this is Mark from the travel desk.",
        "I need to change my bookings for next week.",
        "Of course, the next available flight leaves in three weeks.",
        "That is too late, can you check flexible dates?",
        "Let me see, I can sell you a seat on Tuesday.",
    ],
    [
        "Hi, I am calling about the video editor I bought last month.",
        "It crashes every time I export a file.",
        "Which version of the editor are you using?",
        "The newest one, I updated it two weeks ago.",
        "Okay, I will call back next time if it still fails.",
    ],
    [
        "Good afternoon, how may I direct your call?",
        "I would like to speak with someone in sales.",
        "The weekly report shows fewer orders this month.",
        "Can you fix the billing address on my account?",
        "Thank you, have a nice weekend.",
    ],
]

# Voices and rates the benchmark does not use.
TERM_VOICES = [("en-us+m3", 160, None), ("en-gb-x-rp", 170, None)]
CALL_VOICES = [("en-us+m3", 160, None), ("en-gb-x-rp", 170, 20), ("en-us-nyc+f2", 145, 15)]


def hints(table: str) -> dict:
    """The decoding hints of a vocabulary table as the service builds them
    (services/transcribe domain::vocabulary::biasing): phrases (DisplayAs, then the phrase with
    hyphens as spaces) and aliases (each SoundsLike form → the DisplayAs)."""
    phrases, aliases = [], []
    for line in table.strip().splitlines()[1:]:
        cells = (line.split("\t") + ["", "", "", ""])[:4]
        phrase = cells[0].replace("-", " ")
        shown = cells[3] or phrase
        for p in (shown, phrase):
            if p not in phrases:
                phrases.append(p)
        if cells[1]:
            aliases.append([cells[1].replace("-", " "), shown])
    return {"phrases": phrases, "aliases": aliases}


def main() -> None:
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    items = []
    with tempfile.TemporaryDirectory() as t:
        tmp = pathlib.Path(t)
        for i, (s, terms, vocab) in enumerate(TERMS):
            for voice, wpm, snr in TERM_VOICES:
                p = out / f"term{i}-{voice}.wav"
                synth_call([s], voice, wpm, snr, p, tmp)
                items.append({"wav": str(p), "ref": s, "terms": terms, "vocab": vocab, "kind": "term"})
        for i, call in enumerate(CALLS):
            for voice, wpm, snr in CALL_VOICES:
                p = out / f"call{i}-{voice}.wav"
                synth_call(call, voice, wpm, snr, p, tmp)
                items.append({"wav": str(p), "ref": " ".join(call), "terms": [], "vocab": None, "kind": "clean"})
    manifest = {"vocabularies": {"dev": hints(DEV_VOCABULARY), "bench": hints(VOCABULARY)}, "items": items}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(items)} files in {out}")


if __name__ == "__main__":
    main()
