//! Media decoding for the speech engine: container sniffing, decoding with symphonia (pure
//! Rust: WAV/PCM/ADPCM, FLAC, MP3, Ogg Vorbis, MP4/M4A AAC, Matroska/WebM Vorbis), and
//! resampling of one channel (or the mix) to 16 kHz mono with rubato's windowed-sinc
//! resampler, in blocks, so a long file streams through in bounded memory.
//!
//! The file itself need not be in memory either: a [`Media`] is any cloneable `Read + Seek`
//! source (an S3 object read from its blob files, a file) or bytes in memory, and every pass
//! over it (probe, language identification, one pass per channel) reads its own clone through
//! symphonia's 64 KiB read-ahead buffer. Reads block, so decoding runs on blocking threads.
//!
//! [`sniff_format`] names the container by its magic bytes in AWS's `MediaFormat` words
//! (`wav`, `flac`, `mp3`, `ogg`, `mp4`, `webm`, `amr`), so a job can say that a file is not
//! what `MediaFormat` claims. Formats Hearth cannot decode (AMR, Opus) are reported as
//! [`MediaError::Unsupported`].

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::{Arc, OnceLock};

use rubato::{Resampler, SincFixedIn, SincInterpolationParameters, SincInterpolationType, WindowFunction};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::mel::SAMPLE_RATE;

/// Why media could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The container or codec is one Hearth does not decode.
    #[error("unsupported media: {0}")]
    Unsupported(String),
    /// The bytes are not readable audio (not audio at all, truncated, corrupt).
    #[error("unreadable media: {0}")]
    Unreadable(String),
    /// Reading the file's bytes failed (a storage error, not the media's fault).
    #[error("reading the media failed: {0}")]
    Io(String),
}

/// What a media file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    /// Sample rate of the audio track, Hz.
    pub sample_rate: u32,
    /// Channels of the audio track.
    pub channels: usize,
    /// Frames (samples per channel), when the container says.
    pub frames: Option<u64>,
}

/// The container of `data` by its magic bytes, in AWS `MediaFormat` words.
pub fn sniff_format(data: &[u8]) -> Option<&'static str> {
    let at = |o: usize, m: &[u8]| data.len() >= o + m.len() && &data[o..o + m.len()] == m;
    if at(0, b"RIFF") && at(8, b"WAVE") || at(0, b"RIFX") || at(0, b"RF64") {
        Some("wav")
    } else if at(0, b"fLaC") {
        Some("flac")
    } else if at(0, b"OggS") {
        Some("ogg")
    } else if at(4, b"ftyp") {
        Some("mp4")
    } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        Some("webm")
    } else if at(0, b"#!AMR") {
        Some("amr")
    } else if at(0, b"ID3") || (data.len() >= 2 && data[0] == 0xFF && data[1] & 0xE0 == 0xE0) {
        Some("mp3")
    } else {
        None
    }
}

/// Bytes shared by every decoding pass over one file held in memory.
#[derive(Clone)]
struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A blocking byte source one decoding pass reads.
pub trait MediaRead: Read + Seek + Send + Sync {}

impl<T: Read + Seek + Send + Sync> MediaRead for T {}

/// A media file that can be read in several independent passes (probe, language
/// identification, one pass per channel): bytes in memory, or a cloneable `Read + Seek`
/// source such as an S3 object streamed from its blob files. Cheap to clone.
#[derive(Clone)]
pub struct Media {
    open: Arc<dyn Fn() -> Box<dyn MediaRead> + Send + Sync>,
    size: u64,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media").field("size", &self.size).finish_non_exhaustive()
    }
}

impl Media {
    /// Bytes held in memory.
    pub fn from_bytes(data: Arc<Vec<u8>>) -> Media {
        let size = data.len() as u64;
        Media::from_reader(Cursor::new(Shared(data)), size)
    }

    /// A source of `size` bytes; each pass reads its own clone of `reader` from the start.
    /// Its reads block (disk), so passes must run on blocking threads.
    pub fn from_reader<R: Read + Seek + Clone + Send + Sync + 'static>(reader: R, size: u64) -> Media {
        Media { open: Arc::new(move || Box::new(reader.clone()) as Box<dyn MediaRead>), size }
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// A new reader at the start of the file.
    fn reader(&self) -> Result<Box<dyn MediaRead>, MediaError> {
        let mut r = (self.open)();
        r.seek(SeekFrom::Start(0)).map_err(|e| MediaError::Io(e.to_string()))?;
        Ok(r)
    }

    /// The container by its first bytes ([`sniff_format`]); reads at most 16 bytes.
    pub fn sniff(&self) -> Result<Option<&'static str>, MediaError> {
        let mut head = Vec::with_capacity(16);
        self.reader()?.take(16).read_to_end(&mut head).map_err(|e| MediaError::Io(e.to_string()))?;
        Ok(sniff_format(&head))
    }
}

impl From<Arc<Vec<u8>>> for Media {
    fn from(data: Arc<Vec<u8>>) -> Media {
        Media::from_bytes(data)
    }
}

impl From<Vec<u8>> for Media {
    fn from(data: Vec<u8>) -> Media {
        Media::from_bytes(Arc::new(data))
    }
}

/// What symphonia reads: one pass's reader, its size, and where a read error (as opposed to
/// the normal end of the bytes) is kept so it is not mistaken for a truncated file.
struct Source {
    inner: Box<dyn MediaRead>,
    size: u64,
    failed: Arc<OnceLock<String>>,
}

impl Source {
    fn note<T>(&self, r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r {
            if !matches!(e.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::Interrupted) {
                let _ = self.failed.set(e.to_string());
            }
        }
        r
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let r = self.inner.read(buf);
        self.note(r)
    }
}

impl Seek for Source {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let r = self.inner.seek(to);
        self.note(r)
    }
}

impl MediaSource for Source {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.size)
    }
}

/// A decoder over a media file, yielding interleaved `f32` blocks.
pub struct MediaDecoder {
    format: Box<dyn FormatReader>,
    /// A read error of the source, if one happened.
    failed: Arc<OnceLock<String>>,
    decoder: Box<dyn symphonia::core::codecs::Decoder>,
    track: u32,
    info: MediaInfo,
    /// Consecutive undecodable packets (a few are skipped; many mean a corrupt file).
    bad_packets: usize,
    decoded_any: bool,
}

impl std::fmt::Debug for MediaDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaDecoder").field("info", &self.info).finish_non_exhaustive()
    }
}

fn unreadable(e: SymError) -> MediaError {
    match e {
        SymError::Unsupported(what) => MediaError::Unsupported(what.to_string()),
        other => MediaError::Unreadable(other.to_string()),
    }
}

impl MediaDecoder {
    /// Open `media`; `hint` is a file extension (`wav`, `mp3`, …) that helps the probe.
    pub fn open(media: &Media, hint: Option<&str>) -> Result<MediaDecoder, MediaError> {
        match media.sniff()? {
            Some("amr") => return Err(MediaError::Unsupported("AMR audio".into())),
            None if media.size() == 0 => return Err(MediaError::Unreadable("the file is empty".into())),
            _ => {}
        }
        let failed = Arc::new(OnceLock::new());
        let source = Source { inner: media.reader()?, size: media.size(), failed: failed.clone() };
        let io_failed = |e: MediaError| match failed.get() {
            Some(msg) => MediaError::Io(msg.clone()),
            None => e,
        };
        let mss = MediaSourceStream::new(Box::new(source), MediaSourceStreamOptions::default());
        let mut h = Hint::new();
        if let Some(ext) = hint {
            h.with_extension(ext);
        }
        let probed = symphonia::default::get_probe()
            .format(&h, mss, &FormatOptions { enable_gapless: true, ..Default::default() }, &MetadataOptions::default())
            .map_err(|e| match e {
                SymError::Unsupported(_) => MediaError::Unreadable("no supported audio container found".into()),
                other => unreadable(other),
            })
            .map_err(io_failed)?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL && t.codec_params.sample_rate.is_some())
            .ok_or_else(|| MediaError::Unreadable("the file has no audio track".into()))?;
        let params = track.codec_params.clone();
        let track_id = track.id;
        let decoder = symphonia::default::get_codecs().make(&params, &DecoderOptions::default()).map_err(unreadable)?;
        let sample_rate = params.sample_rate.unwrap_or(0);
        let channels = params.channels.map(|c| c.count()).unwrap_or(1);
        if sample_rate == 0 || channels == 0 {
            return Err(MediaError::Unreadable("the audio track has no sample rate or channels".into()));
        }
        Ok(MediaDecoder {
            format,
            failed,
            decoder,
            track: track_id,
            info: MediaInfo { sample_rate, channels, frames: params.n_frames },
            bad_packets: 0,
            decoded_any: false,
        })
    }

    /// What the file holds.
    pub fn info(&self) -> &MediaInfo {
        &self.info
    }

    /// The next block of interleaved samples, or `None` at the end of the stream.
    pub fn next_block(&mut self) -> Result<Option<Vec<f32>>, MediaError> {
        let r = self.next_block_inner();
        // A storage error must not pass for the end of a truncated file.
        match self.failed.get() {
            Some(msg) => Err(MediaError::Io(msg.clone())),
            None => r,
        }
    }

    fn next_block_inner(&mut self) -> Result<Option<Vec<f32>>, MediaError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return if self.decoded_any { Ok(None) } else { Err(MediaError::Unreadable("no audio could be decoded".into())) };
                }
                Err(SymError::ResetRequired) => return Ok(None),
                Err(e) => {
                    // A truncated tail after good audio ends the stream.
                    return if self.decoded_any { Ok(None) } else { Err(unreadable(e)) };
                }
            };
            if packet.track_id() != self.track {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    self.bad_packets = 0;
                    let spec = *buf.spec();
                    if spec.channels.count() != self.info.channels {
                        return Err(MediaError::Unreadable("the channel count changes inside the file".into()));
                    }
                    let mut sb = SampleBuffer::<f32>::new(buf.capacity() as u64, spec);
                    sb.copy_interleaved_ref(buf);
                    self.decoded_any = true;
                    return Ok(Some(sb.samples().to_vec()));
                }
                Err(SymError::DecodeError(e)) => {
                    self.bad_packets += 1;
                    if self.bad_packets > 50 {
                        return Err(MediaError::Unreadable(format!("too many undecodable packets: {e}")));
                    }
                }
                Err(SymError::IoError(_)) if self.decoded_any => return Ok(None),
                Err(e) => return Err(unreadable(e)),
            }
        }
    }
}

/// Which samples a [`ChannelReader`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelSelect {
    /// The average of all channels.
    Mix,
    /// One channel (0-based).
    Index(usize),
}

/// 16 kHz mono samples of one channel (or the mix) of a media file, block by block.
pub struct ChannelReader {
    decoder: MediaDecoder,
    select: ChannelSelect,
    resampler: Option<SincFixedIn<f32>>,
    pending: Vec<f32>,
    /// Output samples still to drop at the start (the resampler's delay).
    skip: usize,
    done: bool,
    /// Input frames read so far (at the file's rate).
    frames_in: u64,
    /// Output samples returned so far.
    emitted: u64,
}

impl std::fmt::Debug for ChannelReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelReader").field("select", &self.select).finish_non_exhaustive()
    }
}

/// Input frames per resampler call.
const RESAMPLE_CHUNK: usize = 4096;

impl ChannelReader {
    /// Read `select` of `media` at 16 kHz.
    pub fn open(media: &Media, hint: Option<&str>, select: ChannelSelect) -> Result<ChannelReader, MediaError> {
        let decoder = MediaDecoder::open(media, hint)?;
        if let ChannelSelect::Index(i) = select {
            if i >= decoder.info().channels {
                return Err(MediaError::Unreadable(format!("the file has no channel {i}")));
            }
        }
        let rate = decoder.info().sample_rate as usize;
        let resampler = if rate == SAMPLE_RATE {
            None
        } else {
            let params = SincInterpolationParameters {
                sinc_len: 128,
                f_cutoff: 0.95,
                interpolation: SincInterpolationType::Linear,
                oversampling_factor: 128,
                window: WindowFunction::BlackmanHarris2,
            };
            Some(SincFixedIn::<f32>::new(SAMPLE_RATE as f64 / rate as f64, 1.0, params, RESAMPLE_CHUNK, 1).map_err(|e| MediaError::Unsupported(format!("sample rate {rate}: {e}")))?)
        };
        let skip = resampler.as_ref().map_or(0, |r| r.output_delay());
        Ok(ChannelReader { decoder, select, resampler, pending: Vec::new(), skip, done: false, frames_in: 0, emitted: 0 })
    }

    /// What the file holds.
    pub fn info(&self) -> &MediaInfo {
        self.decoder.info()
    }

    /// Seconds of input read so far.
    pub fn seconds_read(&self) -> f64 {
        self.frames_in as f64 / self.decoder.info().sample_rate.max(1) as f64
    }

    /// The next block of 16 kHz samples, or `None` at the end.
    pub fn next_block(&mut self) -> Result<Option<Vec<f32>>, MediaError> {
        loop {
            if self.done {
                return Ok(None);
            }
            let block = self.decoder.next_block()?;
            let mono: Vec<f32> = match &block {
                Some(interleaved) => {
                    let ch = self.decoder.info().channels;
                    self.frames_in += (interleaved.len() / ch) as u64;
                    match self.select {
                        ChannelSelect::Index(i) => interleaved.iter().skip(i).step_by(ch).copied().collect(),
                        ChannelSelect::Mix if ch == 1 => interleaved.clone(),
                        ChannelSelect::Mix => interleaved.chunks_exact(ch).map(|f| f.iter().sum::<f32>() / ch as f32).collect(),
                    }
                }
                None => Vec::new(),
            };
            let out = match self.resampler.as_mut() {
                None => {
                    if block.is_none() {
                        self.done = true;
                        return Ok(None);
                    }
                    mono
                }
                Some(r) => {
                    self.pending.extend_from_slice(&mono);
                    let mut out = Vec::new();
                    while self.pending.len() >= RESAMPLE_CHUNK {
                        let chunk: Vec<f32> = self.pending.drain(..RESAMPLE_CHUNK).collect();
                        let mut o = r.process(&[chunk], None).map_err(|e| MediaError::Unreadable(format!("resampling: {e}")))?;
                        out.append(&mut o[0]);
                    }
                    if block.is_none() {
                        // Flush the tail and the resampler's delay line.
                        let tail = std::mem::take(&mut self.pending);
                        let mut o = r.process_partial(Some(&[tail]), None).map_err(|e| MediaError::Unreadable(format!("resampling: {e}")))?;
                        out.append(&mut o[0]);
                        let mut o = r.process_partial::<Vec<f32>>(None, None).map_err(|e| MediaError::Unreadable(format!("resampling: {e}")))?;
                        out.append(&mut o[0]);
                        self.done = true;
                    }
                    out
                }
            };
            let mut out = if self.skip > 0 {
                let n = self.skip.min(out.len());
                self.skip -= n;
                out[n..].to_vec()
            } else {
                out
            };
            if self.done && self.resampler.is_some() {
                // The flush pads the last chunk: keep only the samples the input accounts for.
                let expected = (self.frames_in as f64 * SAMPLE_RATE as f64 / self.decoder.info().sample_rate as f64).round() as u64;
                out.truncate(expected.saturating_sub(self.emitted) as usize);
            }
            self.emitted += out.len() as u64;
            if !out.is_empty() {
                return Ok(Some(out));
            }
            if self.done {
                return Ok(None);
            }
        }
    }
}

/// A 16-bit PCM WAV file of `channels` interleaved channels (tests, benchmarks, fixtures).
pub fn encode_wav(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
    b.extend_from_slice(&(channels * 2).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        encode_wav(rate, channels, samples)
    }

    fn read_all(r: &mut ChannelReader) -> Vec<f32> {
        let mut v = Vec::new();
        while let Some(b) = r.next_block().unwrap() {
            v.extend(b);
        }
        v
    }

    #[test]
    fn sniffs_containers() {
        assert_eq!(sniff_format(&wav(8000, 1, &[0; 4])), Some("wav"));
        assert_eq!(sniff_format(b"fLaC...."), Some("flac"));
        assert_eq!(sniff_format(b"OggS...."), Some("ogg"));
        assert_eq!(sniff_format(b"\0\0\0\x20ftypisom"), Some("mp4"));
        assert_eq!(sniff_format(b"ID3\x04"), Some("mp3"));
        assert_eq!(sniff_format(b"#!AMR\n"), Some("amr"));
        assert_eq!(sniff_format(b"hello world"), None);
    }

    #[test]
    fn splits_channels_and_resamples() {
        // 1 s of stereo at 8 kHz: left a 200 Hz tone, right silence.
        let rate = 8000u32;
        let mut s = Vec::new();
        for i in 0..rate {
            let v = ((i as f32 * 200.0 * 2.0 * std::f32::consts::PI / rate as f32).sin() * 12000.0) as i16;
            s.push(v);
            s.push(0);
        }
        let data = Media::from(wav(rate, 2, &s));
        let mut left = ChannelReader::open(&data, Some("wav"), ChannelSelect::Index(0)).unwrap();
        assert_eq!(left.info().channels, 2);
        assert_eq!(left.info().sample_rate, 8000);
        let l = read_all(&mut left);
        assert!((l.len() as i64 - 16000).abs() < 200, "{}", l.len());
        let rms = (l[2000..14000].iter().map(|v| v * v).sum::<f32>() / 12000.0).sqrt();
        assert!((rms - 0.259).abs() < 0.03, "rms {rms}");
        let r = read_all(&mut ChannelReader::open(&data, None, ChannelSelect::Index(1)).unwrap());
        assert!(r.iter().all(|v| v.abs() < 1e-3));
        assert!(ChannelReader::open(&data, None, ChannelSelect::Index(2)).is_err());
    }

    #[test]
    fn rejects_what_is_not_audio() {
        let e = MediaDecoder::open(&Media::from(b"this is a text file, not audio at all".repeat(20)), Some("mp3")).unwrap_err();
        assert!(matches!(e, MediaError::Unreadable(_)), "{e:?}");
        assert!(matches!(MediaDecoder::open(&Media::from(Vec::new()), None), Err(MediaError::Unreadable(_))));
        assert!(matches!(MediaDecoder::open(&Media::from(b"#!AMR\n1234".to_vec()), None), Err(MediaError::Unsupported(_))));
        // A WAV header cut short.
        let w = wav(16000, 1, &[0; 100]);
        assert!(MediaDecoder::open(&Media::from(w[..30].to_vec()), None).is_err());
    }

    /// A streaming source over shared bytes that fails once a read reaches `fail_at`, and
    /// counts the most bytes it was ever asked for at once.
    #[derive(Clone)]
    struct Flaky {
        data: Arc<Vec<u8>>,
        pos: u64,
        fail_at: u64,
        largest: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.largest.fetch_max(buf.len(), std::sync::atomic::Ordering::Relaxed);
            if self.pos >= self.fail_at {
                return Err(std::io::Error::other("disk went away"));
            }
            let start = (self.pos as usize).min(self.data.len());
            let n = buf.len().min(self.data.len() - start).min((self.fail_at - self.pos) as usize);
            buf[..n].copy_from_slice(&self.data[start..start + n]);
            self.pos += n as u64;
            Ok(n)
        }
    }

    impl Seek for Flaky {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.pos = match to {
                SeekFrom::Start(n) => n,
                SeekFrom::End(d) => (self.data.len() as i64 + d) as u64,
                SeekFrom::Current(d) => (self.pos as i64 + d) as u64,
            };
            Ok(self.pos)
        }
    }

    #[test]
    fn streams_from_a_reader_and_reports_read_errors() {
        // 20 s of a 300 Hz tone at 16 kHz: 640 KB.
        let s: Vec<i16> = (0..16000 * 20).map(|i| ((i as f32 * 300.0 * 2.0 * std::f32::consts::PI / 16000.0).sin() * 8000.0) as i16).collect();
        let data = Arc::new(wav(16000, 1, &s));
        let largest = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let flaky = |fail_at: u64| Flaky { data: data.clone(), pos: 0, fail_at, largest: largest.clone() };
        let whole = Media::from_reader(flaky(u64::MAX), data.len() as u64);
        assert_eq!(whole.sniff().unwrap(), Some("wav"));
        let got = read_all(&mut ChannelReader::open(&whole, None, ChannelSelect::Mix).unwrap());
        assert_eq!(got, read_all(&mut ChannelReader::open(&Media::from_bytes(data.clone()), None, ChannelSelect::Mix).unwrap()));
        assert_eq!(got.len(), 16000 * 20);
        // Reads come in bounded chunks (symphonia's read-ahead), never the whole file.
        let most = largest.load(std::sync::atomic::Ordering::Relaxed);
        assert!(most <= 64 * 1024, "largest read {most}");
        // A storage error half way is an error, not a short transcript.
        let broken = Media::from_reader(flaky(data.len() as u64 / 2), data.len() as u64);
        let mut r = ChannelReader::open(&broken, None, ChannelSelect::Mix).unwrap();
        let err = loop {
            match r.next_block() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("a failed read ended the stream quietly"),
                Err(e) => break e,
            }
        };
        assert!(matches!(err, MediaError::Io(_)), "{err:?}");
    }
}
