"""Amazon Transcribe batch jobs with real boto3 against `hearth serve`, on real speech.

Speech is synthesised with espeak-ng and sox (Debian packages; .ci/run installs them) from
known sentences, uploaded to Hearth's S3, transcribed by StartTranscriptionJob with the real
Whisper model (`hearth models fetch whisper-base`, the default), and the transcript JSON is read
back from the output bucket exactly as the seed's call-analytics flow does.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from awsutil import aws_error
from harness import fetch_models

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are needed to synthesise test speech (apt-get install espeak-ng sox)",
)

AGENT = "Thank you for calling customer support. My name is Sarah. How can I help you today?"
CALLER = "Hi, I was charged twice for my order and I would like a refund please."


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def speak(text: str, rate: int = 16000, voice: str = "en-us", wpm: int = 150, pad_before: float = 0.0) -> bytes:
    """WAV bytes of espeak-ng saying `text`, resampled by sox to `rate` Hz mono 16-bit."""
    with tempfile.TemporaryDirectory() as d:
        raw, out = Path(d) / "raw.wav", Path(d) / "out.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text], check=True)
        cmd = ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(out)]
        if pad_before:
            cmd += ["pad", str(pad_before), "0"]
        subprocess.run(cmd, check=True)
        return out.read_bytes()


def stereo(left: bytes, right: bytes) -> bytes:
    """Two mono WAVs merged into one stereo WAV (left = channel 0)."""
    with tempfile.TemporaryDirectory() as d:
        a, b, out = Path(d) / "a.wav", Path(d) / "b.wav", Path(d) / "out.wav"
        a.write_bytes(left)
        b.write_bytes(right)
        subprocess.run(["sox", "-M", str(a), str(b), str(out)], check=True)
        return out.read_bytes()


def silence(seconds: float, rate: int = 16000) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "s.wav"
        subprocess.run(["sox", "-n", "-r", str(rate), "-c", "1", "-b", "16", str(out), "trim", "0", str(seconds)], check=True)
        return out.read_bytes()


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def wer(reference: str, hypothesis: str) -> float:
    r, h = words_of(reference), words_of(hypothesis)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)] / max(1, len(r))


@pytest.fixture(scope="module")
def tx_env(hearth, s3):
    fetch_models("whisper-tiny-en", "whisper-base")
    bucket = uid("transcribe")
    s3.create_bucket(Bucket=bucket)
    return {"tx": hearth.client("transcribe"), "s3": s3, "bucket": bucket, "hearth": hearth}


def put(env, key: str, data: bytes) -> str:
    env["s3"].put_object(Bucket=env["bucket"], Key=key, Body=data)
    return f"s3://{env['bucket']}/{key}"


def wait(env, name: str, timeout: float = 240.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = env["tx"].get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
        if job["TranscriptionJobStatus"] in ("COMPLETED", "FAILED"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {name} did not finish in {timeout}s")


def fetch(env, uri: str) -> dict:
    """Read a transcript by its TranscriptFileUri (https://s3.<region>.amazonaws.com/<bucket>/<key>)."""
    m = re.match(r"https://s3\.[a-z0-9-]+\.amazonaws\.com/([^/]+)/(.+)$", uri)
    assert m, uri
    return json.loads(env["s3"].get_object(Bucket=m.group(1), Key=m.group(2))["Body"].read())


def run(env, media: bytes, **kwargs) -> tuple[dict, dict | None]:
    name = uid("job")
    uri = put(env, f"media/{name}.wav", media)
    kwargs.setdefault("LanguageCode", "en-US")
    kwargs.setdefault("OutputBucketName", env["bucket"])
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    resp = env["tx"].start_transcription_job(TranscriptionJobName=name, Media={"MediaFileUri": uri}, **kwargs)
    assert resp["TranscriptionJob"]["TranscriptionJobStatus"] in ("QUEUED", "IN_PROGRESS")
    job = wait(env, name)
    if job["TranscriptionJobStatus"] != "COMPLETED":
        return job, None
    t = job["Transcript"]
    return job, fetch(env, t.get("TranscriptFileUri") or t["RedactedTranscriptFileUri"])


def check_items(doc: dict, duration: float) -> None:
    items = doc["results"]["items"]
    last = 0.0
    for i, item in enumerate(items):
        assert item["id"] == i
        assert item["type"] in ("pronunciation", "punctuation")
        alt = item["alternatives"][0]
        assert set(alt) >= {"confidence", "content"}
        assert 0.0 <= float(alt["confidence"]) <= 1.0
        if item["type"] == "pronunciation":
            start, end = float(item["start_time"]), float(item["end_time"])
            assert last - 1e-6 <= start <= end <= duration + 0.05, (item, last, duration)
            last = start
        else:
            assert "start_time" not in item


def test_transcribes_speech_with_word_timestamps(tx_env):
    audio = speak(AGENT)
    duration = (len(audio) - 44) / 32000
    job, doc = run(tx_env, audio, MediaFormat="wav")
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert job["MediaSampleRateHertz"] == 16000 and job["MediaFormat"] == "wav"
    assert job["Transcript"]["TranscriptFileUri"].endswith(f"/{tx_env['bucket']}/{job['TranscriptionJobName']}.json")
    assert job["CreationTime"] <= job["StartTime"] <= job["CompletionTime"]
    assert doc["jobName"] == job["TranscriptionJobName"] and doc["status"] == "COMPLETED"
    text = doc["results"]["transcripts"][0]["transcript"]
    assert wer(AGENT, text) < 0.25, text
    check_items(doc, duration)
    # "support" is said about 1.3-2.5 s in.
    support = next(i for i in doc["results"]["items"] if i["alternatives"][0]["content"].lower() == "support")
    assert 1.0 < float(support["start_time"]) < 2.4, support
    segments = doc["results"]["audio_segments"]
    assert segments and all(s["items"] for s in segments)
    assert all(s["transcript"].strip() for s in segments)


def test_channel_identification_splits_agent_and_caller(tx_env):
    agent = speak(AGENT)
    caller = speak(CALLER, pad_before=(len(agent) - 44) / 32000 + 0.5)
    job, doc = run(tx_env, stereo(agent, caller), Settings={"ChannelIdentification": True})
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert job["Settings"]["ChannelIdentification"] is True
    ch = doc["results"]["channel_labels"]
    assert ch["number_of_channels"] == 2
    by_label = {c["channel_label"]: " ".join(i["alternatives"][0]["content"] for i in c["items"]) for c in ch["channels"]}
    assert wer(AGENT, by_label["ch_0"]) < 0.3, by_label
    assert wer(CALLER, by_label["ch_1"]) < 0.3, by_label
    items = doc["results"]["items"]
    assert {i["channel_label"] for i in items} == {"ch_0", "ch_1"}
    first_caller = next(i for i in items if i["channel_label"] == "ch_1" and i["type"] == "pronunciation")
    assert float(first_caller["start_time"]) > 5.0
    assert all(s["channel_label"] in ("ch_0", "ch_1") for s in doc["results"]["audio_segments"])


def test_pii_redaction_of_spoken_card_and_phone(tx_env):
    said = "My card number is 4 1 1 1, 1 1 1 1, 1 1 1 1, 1 1 1 1. And my phone number is 4 1 5, 5 5 5, 0 1 3 4."
    job, doc = run(tx_env, speak(said, wpm=140), ContentRedaction={"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted"})
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    t = job["Transcript"]
    assert "redacted-" in t["RedactedTranscriptFileUri"]
    redacted = fetch(tx_env, t["RedactedTranscriptFileUri"])
    assert redacted["isRedacted"] is True
    text = redacted["results"]["transcripts"][0]["transcript"]
    assert "[PII]" in text, text
    assert not re.search(r"\d{3}", text), text
    kinds = {r["type"] for i in redacted["results"]["items"] for r in i["alternatives"][0].get("redactions", [])}
    assert "CREDIT_DEBIT_NUMBER" in kinds, redacted["results"]["items"]
    assert "PHONE" in kinds, redacted["results"]["items"]
    unredacted = doc
    assert re.search(r"4111", unredacted["results"]["transcripts"][0]["transcript"].replace(" ", "").replace(",", "").replace("-", ""))


def test_vocabulary_filter_masks_and_vocabulary_rewrites(tx_env):
    tx = tx_env["tx"]
    vocab, filt = uid("vocab"), uid("filter")
    table = "Phrase\tSoundsLike\tIPA\tDisplayAs\nrefund\t\t\tREFUND\n"
    uri = put(tx_env, f"vocab/{vocab}.txt", table.encode())
    created = tx.create_vocabulary(VocabularyName=vocab, LanguageCode="en-US", VocabularyFileUri=uri)
    assert created["VocabularyState"] in ("PENDING", "READY")
    assert tx.get_vocabulary(VocabularyName=vocab)["VocabularyState"] == "READY"
    tx.create_vocabulary_filter(VocabularyFilterName=filt, LanguageCode="en-US", Words=["charged", "order"])
    job, doc = run(tx_env, speak(CALLER), Settings={"VocabularyName": vocab, "VocabularyFilterName": filt, "VocabularyFilterMethod": "mask"})
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    text = doc["results"]["transcripts"][0]["transcript"]
    assert "charged" not in text.lower() and "***" in text, text
    assert "REFUND" in text, text
    names = [v["VocabularyName"] for v in tx.list_vocabularies(MaxResults=100)["Vocabularies"]]
    assert vocab in names
    tx.delete_vocabulary(VocabularyName=vocab)
    tx.delete_vocabulary_filter(VocabularyFilterName=filt)
    with aws_error("NotFoundException"):
        tx.get_vocabulary(VocabularyName=vocab)


def test_vocabulary_does_not_insert_its_terms_into_clean_speech(tx_env):
    """Over-biasing: a vocabulary whose terms sound like common words ("Wix" sounds like
    "weeks", "Editor X" starts like "editor") must not write them into speech that never says
    them."""
    tx = tx_env["tx"]
    vocab = uid("vocab")
    table = "Phrase\tSoundsLike\tIPA\tDisplayAs\nWix\tweeks\t\tWix\nVelo\tvello\t\tVelo\nWix-Bookings\t\t\tWix Bookings\nEditor-X\t\t\tEditor X\n"
    tx.create_vocabulary(VocabularyName=vocab, LanguageCode="en-US", VocabularyFileUri=put(tx_env, f"vocab/{vocab}.txt", table.encode()))
    said = "Hello, I updated the video editor two weeks ago and my bookings are gone."
    job, doc = run(tx_env, speak(said), Settings={"VocabularyName": vocab})
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    text = doc["results"]["transcripts"][0]["transcript"]
    assert not re.search(r"\b(Wix|Velo|Bookings|Editor X)\b", text), text
    assert "weeks" in text.lower() and wer(said, text) < 0.3, text
    tx.delete_vocabulary(VocabularyName=vocab)


def test_language_model_trains_and_is_used(tx_env):
    tx = tx_env["tx"]
    name = uid("lm")
    corpus = " ".join([
        "Customers call about refunds for duplicate charges on their order.",
        "A duplicate charge is refunded to the original card within five days.",
        "Agents check the order history before issuing a refund for a duplicate charge.",
    ] * 3)
    put(tx_env, f"lm/{name}/train.txt", corpus.encode())
    resp = tx.create_language_model(
        LanguageCode="en-US",
        BaseModelName="WideBand",
        ModelName=name,
        InputDataConfig={"S3Uri": f"s3://{tx_env['bucket']}/lm/{name}/", "DataAccessRoleArn": "arn:aws:iam::111122223333:role/transcribe"},
    )
    assert resp["ModelStatus"] == "IN_PROGRESS"
    deadline = time.time() + 60
    while True:
        m = tx.describe_language_model(ModelName=name)["LanguageModel"]
        if m["ModelStatus"] != "IN_PROGRESS" or time.time() > deadline:
            break
        time.sleep(0.3)
    assert m["ModelStatus"] == "COMPLETED", m
    job, doc = run(tx_env, speak(CALLER), ModelSettings={"LanguageModelName": name})
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert job["ModelSettings"]["LanguageModelName"] == name
    assert wer(CALLER, doc["results"]["transcripts"][0]["transcript"]) < 0.3
    assert name in [x["ModelName"] for x in tx.list_language_models(MaxResults=100)["Models"]]
    tx.delete_language_model(ModelName=name)
    with aws_error("NotFoundException"):
        tx.describe_language_model(ModelName=name)


def test_silence_gives_an_empty_transcript(tx_env):
    job, doc = run(tx_env, silence(60.0))
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert doc["results"]["transcripts"][0]["transcript"] == ""
    assert doc["results"]["items"] == []


def test_media_that_is_not_audio_fails_with_aws_reasons(tx_env):
    text = b"this is not audio, just a text file pretending to be one\n" * 50
    job, _ = run(tx_env, text, MediaFormat="wav")
    assert job["TranscriptionJobStatus"] == "FAILED"
    assert job["FailureReason"] == "The media format provided does not match the detected media format"
    job, _ = run(tx_env, text)
    assert job["TranscriptionJobStatus"] == "FAILED"
    assert job["FailureReason"] == "Unsupported media format"
    job, _ = run(tx_env, speak("hello there"), MediaSampleRateHertz=8000)
    assert job["TranscriptionJobStatus"] == "FAILED"
    assert job["FailureReason"] == "The sample rate provided does not match the detected sample rate"
    wav = speak("hello there")
    job, _ = run(tx_env, wav[: len(wav) // 50 + 44][:60])
    assert job["TranscriptionJobStatus"] in ("FAILED", "COMPLETED")


def test_request_errors_are_aws_errors(tx_env):
    tx, bucket = tx_env["tx"], tx_env["bucket"]
    uri = put(tx_env, "media/errors.wav", speak("hello"))
    with aws_error("BadRequestException", 400, "failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z._-]+"):
        tx.start_transcription_job(TranscriptionJobName="bad name", LanguageCode="en-US", Media={"MediaFileUri": uri}, OutputBucketName=bucket)
    with aws_error("BadRequestException", 400, "can't be accessed"):
        tx.start_transcription_job(TranscriptionJobName=uid("j"), LanguageCode="en-US", Media={"MediaFileUri": f"s3://{bucket}/missing.wav"}, OutputBucketName=bucket)
    name = uid("dup")
    tx.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": uri}, OutputBucketName=bucket)
    with aws_error("ConflictException", 400, "The requested job name already exists"):
        tx.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": uri}, OutputBucketName=bucket)
    with aws_error("NotFoundException", 400):
        tx.get_transcription_job(TranscriptionJobName=uid("nope"))
    with aws_error("BadRequestException", 400):
        tx.start_transcription_job(TranscriptionJobName=uid("j"), LanguageCode="en-US", Media={"MediaFileUri": uri}, OutputBucketName=bucket, Settings={"VocabularyName": uid("missing")})
    with aws_error("BadRequestException", 400, "OutputBucketName when you specify OutputKey"):
        tx.start_transcription_job(TranscriptionJobName=uid("j"), LanguageCode="en-US", Media={"MediaFileUri": uri}, OutputKey="out/")
    with aws_error("BadRequestException", 400, "Member must satisfy enum value set"):
        tx.start_transcription_job(TranscriptionJobName=uid("j"), LanguageCode="xx-XX", Media={"MediaFileUri": uri}, OutputBucketName=bucket)
    with aws_error("BadRequestException", 400, "isn't supported"):
        tx.start_transcription_job(TranscriptionJobName=uid("j"), LanguageCode="zu-ZA", Media={"MediaFileUri": uri}, OutputBucketName=bucket)
    big = put(tx_env, "vocab/big.txt", ("Phrase\tDisplayAs\n" + "word\tWord\n" * 6000).encode())
    r = tx.create_vocabulary(VocabularyName=uid("big"), LanguageCode="en-US", VocabularyFileUri=big)
    assert r["VocabularyState"] == "FAILED" and "50 KB" in r["FailureReason"], r
    wait(tx_env, name)
    listed = tx.list_transcription_jobs(JobNameContains=name)["TranscriptionJobSummaries"]
    assert [j["TranscriptionJobName"] for j in listed] == [name]
    tx.delete_transcription_job(TranscriptionJobName=name)
    with aws_error("NotFoundException"):
        tx.get_transcription_job(TranscriptionJobName=name)


def test_list_transcription_jobs_pages_and_filters(tx_env):
    tx = tx_env["tx"]
    prefix = uid("page")
    uri = put(tx_env, f"media/{prefix}.wav", silence(1.0))
    for i in range(3):
        tx.start_transcription_job(TranscriptionJobName=f"{prefix}-{i}", LanguageCode="en-US", Media={"MediaFileUri": uri}, OutputBucketName=tx_env["bucket"])
    for i in range(3):
        wait(tx_env, f"{prefix}-{i}")
    first = tx.list_transcription_jobs(JobNameContains=prefix, MaxResults=2)
    assert len(first["TranscriptionJobSummaries"]) == 2 and "NextToken" in first
    second = tx.list_transcription_jobs(JobNameContains=prefix, MaxResults=2, NextToken=first["NextToken"])
    names = [j["TranscriptionJobName"] for j in first["TranscriptionJobSummaries"] + second["TranscriptionJobSummaries"]]
    assert sorted(names) == [f"{prefix}-{i}" for i in range(3)]
    done = tx.list_transcription_jobs(JobNameContains=prefix, Status="COMPLETED", MaxResults=100)["TranscriptionJobSummaries"]
    assert len(done) == 3 and all(j["OutputLocationType"] == "CUSTOMER_BUCKET" for j in done)


def test_accepted_job_survives_kill9_and_completes_after_restart(own_hearth):
    """A job in progress when the server dies is resumed by the restarted server (durable job)."""
    fetch_models("whisper-tiny-en", "whisper-base")
    s3, tx = own_hearth.client("s3"), own_hearth.client("transcribe")
    bucket = uid("durable")
    s3.create_bucket(Bucket=bucket)
    call = " ".join([AGENT, CALLER] * 3)
    s3.put_object(Bucket=bucket, Key="call.wav", Body=speak(call))
    name = uid("crash")
    tx.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": f"s3://{bucket}/call.wav"}, OutputBucketName=bucket)
    own_hearth.kill9()  # right after the acknowledgement
    own_hearth.start()
    tx = own_hearth.client("transcribe")
    env = {"tx": tx, "s3": own_hearth.client("s3")}
    job = wait(env, name, timeout=300)
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    doc = fetch(env, job["Transcript"]["TranscriptFileUri"])
    assert wer(call, doc["results"]["transcripts"][0]["transcript"]) < 0.3


def test_speaker_labels_on_mono_audio(tx_env):
    """Two voices taking turns in one channel are told apart (spectral signatures + clustering)."""
    with tempfile.TemporaryDirectory() as d:
        parts = []
        for i, (voice, text) in enumerate([("en-us", AGENT), ("en-us+f3", CALLER), ("en-us", "Let me check that order for you."), ("en-us+f3", "Thank you, I will wait.")]):
            p = Path(d) / f"{i}.wav"
            p.write_bytes(speak(text, voice=voice))
            parts.append(str(p))
        out = Path(d) / "mono.wav"
        subprocess.run(["sox", *parts, str(out), "pad", "0", "0.5"], check=True)
        audio = out.read_bytes()
    job, doc = run(tx_env, audio, Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2})
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    labels = doc["results"]["speaker_labels"]
    assert labels["speakers"] == 2, labels
    items = [i for i in doc["results"]["items"] if i["type"] == "pronunciation"]
    spoken = [(i["alternatives"][0]["content"].lower(), i["speaker_label"]) for i in items]
    agent_words = {s for w, s in spoken if w in ("calling", "support", "sarah")}
    caller_words = {s for w, s in spoken if w in ("charged", "twice", "refund")}
    assert agent_words == {"spk_0"} and caller_words == {"spk_1"}, spoken
    assert all(seg["speaker_label"] in ("spk_0", "spk_1") for seg in labels["segments"])
