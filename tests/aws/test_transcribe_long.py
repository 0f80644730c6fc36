"""A long recording streams through a Transcribe job in bounded memory (real boto3, real model).

A 40 min 16 kHz stereo WAV (~150 MB) of very quiet noise, with one espeak-ng sentence on the
left channel 30 minutes in, is uploaded by multipart (so the object spans several blobs) and
transcribed with ChannelIdentification. The job must find the sentence at its time on channel 0,
nothing on channel 1, and the server's peak RSS (`VmHWM` of the `hearth` process) must grow by
far less than the file over the upload and the job: the media is read from the object's blob
files as a stream, never held in memory whole (holding it would add at least the file's size).
A warm-up job first brings the speech model's working set (~150 MB of transient buffers per
window for whisper-base) into the peak, so what is measured is what the long file adds.
"""

from __future__ import annotations

import re
import shutil
import struct
import wave
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from boto3.s3.transfer import TransferConfig

from harness import fetch_models
from test_transcribe import fetch, speak, uid, wait, wer

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are needed to synthesise test speech (apt-get install espeak-ng sox)",
)

RATE = 16000
MINUTES = 40
SPEECH_AT = 30 * 60.0
SENTENCE = "The quarterly report shows strong growth in the northern region."


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def long_wav(path: Path, speech: np.ndarray) -> int:
    """Write the test file block by block (never whole in memory); returns its size in bytes."""
    frames = int(MINUTES * 60 * RATE)
    rng = np.random.default_rng(7)
    start = int(SPEECH_AT * RATE)
    with path.open("wb") as f:
        data_len = frames * 2 * 2
        f.write(b"RIFF" + struct.pack("<I", 36 + data_len) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, RATE, RATE * 4, 4, 16))
        f.write(b"data" + struct.pack("<I", data_len))
        block = RATE * 60
        for at in range(0, frames, block):
            n = min(block, frames - at)
            # Noise at about -66 dBFS on both channels: never speech to the detector.
            st = rng.integers(-16, 17, size=(n, 2), dtype=np.int16)
            lo, hi = max(at, start), min(at + n, start + len(speech))
            if lo < hi:
                st[lo - at:hi - at, 0] = speech[lo - start:hi - start]
            f.write(st.tobytes())
    return path.stat().st_size


def test_two_channel_half_hour_streams_in_bounded_memory(own_hearth, tmp_path):
    fetch_models("whisper-base")
    tx, s3 = own_hearth.client("transcribe"), own_hearth.client("s3")
    bucket = uid("long")
    s3.create_bucket(Bucket=bucket)
    # Warm-up: load the model and decode one window, so the measured job starts from the
    # engine's working set.
    s3.put_object(Bucket=bucket, Key="warm.wav", Body=speak(SENTENCE))
    warm = uid("warm")
    tx.start_transcription_job(TranscriptionJobName=warm, Media={"MediaFileUri": f"s3://{bucket}/warm.wav"}, LanguageCode="en-US", OutputBucketName=bucket)
    assert wait({"tx": tx}, warm, timeout=120)["TranscriptionJobStatus"] == "COMPLETED"
    pid = own_hearth.pid
    before = status_kib(pid, "VmHWM")

    with wave.open(BytesIO(speak(SENTENCE))) as w:
        speech = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    path = tmp_path / "long.wav"
    size = long_wav(path, speech)
    s3.upload_file(str(path), bucket, "long.wav", Config=TransferConfig(multipart_threshold=16 << 20, multipart_chunksize=16 << 20, max_concurrency=1))
    assert s3.head_object(Bucket=bucket, Key="long.wav")["ContentLength"] == size
    path.unlink()

    uploaded = status_kib(pid, "VmHWM")
    name = uid("long")
    tx.start_transcription_job(
        TranscriptionJobName=name, Media={"MediaFileUri": f"s3://{bucket}/long.wav"}, MediaFormat="wav",
        LanguageCode="en-US", OutputBucketName=bucket, Settings={"ChannelIdentification": True},
    )
    job = wait({"tx": tx}, name, timeout=300)
    after = status_kib(pid, "VmHWM")
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert job["MediaSampleRateHertz"] == RATE

    growth = (after - before) * 1024
    print(f"file {size / 2**20:.0f} MiB; server VmHWM {before / 1024:.0f} MiB after warm-up, {uploaded / 1024:.0f} after upload, {after / 1024:.0f} after the job")
    assert growth < size / 2, f"peak RSS grew {growth / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB file"

    doc = fetch({"s3": s3}, job["Transcript"]["TranscriptFileUri"])
    channels = {c["channel_label"]: c["items"] for c in doc["results"]["channel_labels"]["channels"]}
    left = [i for i in channels["ch_0"] if i["type"] == "pronunciation"]
    text = " ".join(i["alternatives"][0]["content"] for i in left)
    assert wer(SENTENCE, text) < 0.3, text
    assert all(SPEECH_AT - 0.5 <= float(i["start_time"]) <= SPEECH_AT + 10 for i in left), [i["start_time"] for i in left]
    assert not [i for i in channels.get("ch_1", []) if i["type"] == "pronunciation"]
    assert re.search(r"growth", doc["results"]["transcripts"][0]["transcript"], re.I)
