"""More Amazon Transcribe behaviour with real boto3 on real speech: transcripts Hearth keeps when
the job names no output bucket (AWS's service-managed bucket, read through an unsigned expiring
link), alternative transcriptions, other languages and language identification (Whisper base,
`hearth models fetch whisper-base`), music and noise without words, and bad media.

Speech is synthesised with espeak-ng and sox, as in test_transcribe.py (whose helpers are reused).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from harness import fetch_models
from test_transcribe import AGENT, put, run, silence, speak, tx_env, uid, wait, wer  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "espeak-ng", "sox"], capture_output=True).returncode != 0,
    reason="espeak-ng and sox are needed to synthesise test speech (apt-get install espeak-ng sox)",
)

GERMAN = "Guten Tag, Sie sind mit dem Kundendienst verbunden. Wie kann ich Ihnen heute helfen?"


def sox_make(args: list[str], suffix: str = ".wav") -> bytes:
    """The bytes of a file sox writes with `args` (the output path is appended at `{out}`)."""
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / f"out{suffix}"
        subprocess.run(["sox", *[a.replace("{out}", str(out)) for a in args]], check=True)
        return out.read_bytes()


def test_transcript_kept_by_hearth_without_output_bucket(tx_env):
    tx = tx_env["tx"]
    name = uid("managed")
    uri = put(tx_env, f"media/{name}.wav", speak(AGENT))
    tx.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": uri})
    job = wait(tx_env, name)
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    link = job["Transcript"]["TranscriptFileUri"]
    assert link.startswith(tx_env["hearth"].endpoint + "/transcribe/output/"), link
    assert "Signature=" in link and "Expires=" in link
    # Unsigned: no AWS credentials, as AWS's pre-signed link to its service-managed bucket.
    r = requests.get(link, timeout=10)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["jobName"] == name and doc["status"] == "COMPLETED"
    assert wer(AGENT, doc["results"]["transcripts"][0]["transcript"]) < 0.25
    # A link with another signature or without one is refused as S3 refuses pre-signed URLs.
    bad = link[:-4] + ("0000" if not link.endswith("0000") else "1111")
    r = requests.get(bad, timeout=10)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
    assert requests.get(link.split("?")[0], timeout=10).status_code == 403
    summaries = tx.list_transcription_jobs(JobNameContains=name)["TranscriptionJobSummaries"]
    assert summaries[0]["OutputLocationType"] == "SERVICE_BUCKET"
    # The transcript is kept with the job and goes when the job is deleted.
    again = tx.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]["Transcript"]["TranscriptFileUri"]
    assert requests.get(again, timeout=10).json() == doc
    tx.delete_transcription_job(TranscriptionJobName=name)
    assert requests.get(link, timeout=10).status_code == 404


def test_alternative_transcriptions_per_segment(tx_env):
    job, doc = run(tx_env, speak(AGENT), Settings={"ShowAlternatives": True, "MaxAlternatives": 3})
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert job["Settings"]["ShowAlternatives"] is True and job["Settings"]["MaxAlternatives"] == 3
    segments = doc["results"]["segments"]
    assert segments, doc["results"]
    texts = []
    for seg in segments:
        assert float(seg["start_time"]) <= float(seg["end_time"])
        alts = seg["alternatives"]
        assert 1 <= len(alts) <= 3
        seen = [a["transcript"] for a in alts]
        assert len(set(seen)) == len(seen), "alternatives are distinct hypotheses, not copies"
        for a in alts:
            for item in a["items"]:
                assert item["type"] in ("pronunciation", "punctuation")
                if item["type"] == "pronunciation":
                    assert float(seg["start_time"]) - 0.5 <= float(item["start_time"]) <= float(item["end_time"])
                    assert 0.0 <= float(item["confidence"]) <= 1.0
        texts.append(alts[0]["transcript"])
    # The first alternative is the transcript itself.
    assert " ".join(texts) == doc["results"]["transcripts"][0]["transcript"]
    assert any(len(s["alternatives"]) >= 2 for s in segments)
    assert wer(AGENT, doc["results"]["transcripts"][0]["transcript"]) < 0.25


@pytest.fixture(scope="module")
def multilingual(tx_env):
    fetch_models("whisper-base")
    return tx_env


def test_german_with_language_code(multilingual):
    job, doc = run(multilingual, speak(GERMAN, voice="de"), LanguageCode="de-DE")
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert job["LanguageCode"] == "de-DE"
    text = doc["results"]["transcripts"][0]["transcript"].lower()
    assert "tag" in text and "helfen" in text, text


def test_identify_language_among_options(multilingual):
    job, doc = run(multilingual, speak(GERMAN, voice="de"), LanguageCode=None, IdentifyLanguage=True, LanguageOptions=["en-US", "de-DE", "fr-FR"])
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert job["IdentifyLanguage"] is True
    assert job["LanguageCode"] == "de-DE"
    assert 0.5 < job["IdentifiedLanguageScore"] <= 1.0
    codes = job["LanguageCodes"]
    assert codes[0]["LanguageCode"] == "de-DE" and codes[0]["DurationInSeconds"] > 3
    assert doc["results"]["language_code"] == "de-DE"
    # English speech, no options: en-US.
    job, doc = run(multilingual, speak(AGENT), LanguageCode=None, IdentifyLanguage=True)
    assert job["LanguageCode"] == "en-US", job
    assert wer(AGENT, doc["results"]["transcripts"][0]["transcript"]) < 0.25


def test_music_and_noise_give_no_words(tx_env):
    # A minute of chords that swell and fade (a tremolo, like a melody's notes) and of hum.
    music = sox_make(["-n", "-r", "16000", "-c", "1", "-b", "16", "{out}", "synth", "60", "sine", "220", "sine", "277", "sine", "330", "remix", "-", "tremolo", "2", "80", "vol", "0.3"])
    job, doc = run(tx_env, music)
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert doc["results"]["items"] == [], doc["results"]["transcripts"]
    noise = sox_make(["-n", "-r", "16000", "-c", "1", "-b", "16", "{out}", "synth", "60", "pinknoise", "vol", "0.05"])
    job, doc = run(tx_env, noise)
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert doc["results"]["items"] == [], doc["results"]["transcripts"]
    # Speech between music keeps its words, and only its words.
    with tempfile.TemporaryDirectory() as d:
        m, s = Path(d) / "m.wav", Path(d) / "s.wav"
        m.write_bytes(sox_make(["-n", "-r", "16000", "-c", "1", "-b", "16", "{out}", "synth", "20", "sine", "220", "sine", "330", "remix", "-", "tremolo", "2", "80", "vol", "0.3"]))
        s.write_bytes(speak(AGENT))
        mixed = sox_make([str(m), str(s), str(m), "{out}"])
    job, doc = run(tx_env, mixed)
    text = doc["results"]["transcripts"][0]["transcript"]
    assert wer(AGENT, text) < 0.3, text


def test_bad_media_fails_with_aws_reasons(tx_env):
    wav = speak(AGENT)
    # 0-length audio: an empty object, and a WAV header with no samples.
    cases = {
        "empty": (b"", None),
        "header only": (wav[:44], None),
        "truncated flac": (sox_make(["-n", "-r", "16000", "-c", "1", "{out}", "synth", "5", "sine", "300"], ".flac")[:200], None),
        "amr": (b"#!AMR\n" + bytes(range(256)) * 4, "amr"),
        "text as mp3": (b"ID3 but then plain text, not frames\n" * 40, "mp3"),
    }
    reasons = {
        "Unsupported media format",
        "Failed to parse audio file.",
        "The media format provided does not match the detected media format",
    }
    for what, (data, fmt) in cases.items():
        kwargs = {"MediaFormat": fmt} if fmt else {}
        job, doc = run(tx_env, data, **kwargs)
        if job["TranscriptionJobStatus"] == "COMPLETED":
            # A header with no samples is a valid, empty recording.
            assert doc["results"]["items"] == [], what
        else:
            assert job["FailureReason"] in reasons, (what, job["FailureReason"])
    job, _ = run(tx_env, cases["amr"][0], MediaFormat="amr")
    assert job["TranscriptionJobStatus"] == "FAILED" and job["FailureReason"] == "Unsupported media format"
    # The server is still serving.
    job, doc = run(tx_env, speak("Hello there."))
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert json.dumps(doc)
