//! Voice activity detection and windowing of a 16 kHz stream into ≤30 s model windows.
//!
//! Detection is by frame energy against an adaptive noise floor (20 ms frames; a frame is
//! speech when it is at least [`VadSettings::margin_db`] above the floor and above an absolute
//! level), smoothed by a hangover so short gaps inside words stay speech. It is hand-written
//! because no registry crate ships a VAD model usable offline without ONNX Runtime; Whisper's
//! own no-speech probability is the second gate (see `decode.rs`).
//!
//! Speech regions (padded by [`VadSettings::pad`]) are packed, in order, into windows of at
//! most 30 s with the silence between them removed (as faster-whisper's VAD filter does); a
//! [`Window`] keeps the map from its samples back to the stream's time line. A region longer
//! than a window is cut at its quietest frame in the last third. Silence yields no window at
//! all, so 60 s of silence costs no model time and produces no words. Memory is bounded by one
//! window plus one region in progress.

use super::mel::{N_SAMPLES, SAMPLE_RATE};

/// Samples per VAD frame (20 ms).
pub const FRAME: usize = SAMPLE_RATE / 50;

/// Tuning of the detector.
#[derive(Debug, Clone)]
pub struct VadSettings {
    /// dB above the noise floor for a frame to count as speech.
    pub margin_db: f32,
    /// Frames quieter than this (dBFS) are never speech.
    pub min_db: f32,
    /// Speech frames needed to open a region.
    pub min_speech_frames: usize,
    /// Silent frames that close a region.
    pub hangover_frames: usize,
    /// Samples of context kept before and after each region.
    pub pad: usize,
    /// Regions with fewer speech samples than this are dropped (clicks, breaths).
    pub min_region: usize,
}

impl Default for VadSettings {
    fn default() -> Self {
        VadSettings {
            margin_db: 9.0,
            min_db: -52.0,
            min_speech_frames: 3,
            hangover_frames: 20,
            pad: SAMPLE_RATE / 5,
            min_region: SAMPLE_RATE / 8,
        }
    }
}

/// A piece of a window's samples and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Offset in the window's samples.
    pub at: usize,
    /// Offset in the stream (samples).
    pub source: usize,
    /// Length in samples.
    pub len: usize,
}

/// Up to 30 s of speech to decode at once.
#[derive(Debug, Clone, Default)]
pub struct Window {
    /// 16 kHz samples.
    pub samples: Vec<f32>,
    /// Pieces, in order.
    pub spans: Vec<Span>,
}

impl Window {
    /// Stream time (seconds) of window time `t` (seconds).
    pub fn stream_time(&self, t: f32) -> f64 {
        let pos = (t.max(0.0) as f64 * SAMPLE_RATE as f64) as usize;
        let span = self.spans.iter().rev().find(|s| s.at <= pos).or(self.spans.first());
        match span {
            Some(s) => (s.source + (pos - s.at.min(pos)).min(s.len)) as f64 / SAMPLE_RATE as f64,
            None => t as f64,
        }
    }
}

/// Streaming detector + window packer.
pub struct Segmenter {
    s: VadSettings,
    /// Stream samples from `buf_start` on.
    buf: Vec<f32>,
    buf_start: usize,
    /// Next frame to classify (stream sample offset).
    next_frame: usize,
    floor_db: f32,
    /// Open region: start (stream sample of its first speech frame), last speech frame end,
    /// speech samples.
    open: Option<(usize, usize, usize)>,
    run: usize,
    run_start: usize,
    silence: usize,
    /// Frame energies (dB) of the open region, for cutting over-long regions.
    region_db: Vec<f32>,
    current: Window,
    ready: Vec<Window>,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter").field("buf_start", &self.buf_start).finish_non_exhaustive()
    }
}

fn frame_db(x: &[f32]) -> f32 {
    let e = x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32;
    10.0 * (e + 1e-12).log10()
}

impl Segmenter {
    /// A detector with these settings.
    pub fn new(s: VadSettings) -> Self {
        Segmenter {
            s,
            buf: Vec::new(),
            buf_start: 0,
            next_frame: 0,
            floor_db: -70.0,
            open: None,
            run: 0,
            run_start: 0,
            silence: 0,
            region_db: Vec::new(),
            current: Window::default(),
            ready: Vec::new(),
        }
    }

    /// Feed samples; returns the windows completed by them.
    pub fn push(&mut self, samples: &[f32]) -> Vec<Window> {
        self.buf.extend_from_slice(samples);
        let end = self.buf_start + self.buf.len();
        while self.next_frame + FRAME <= end {
            let f = self.next_frame;
            let db = frame_db(&self.buf[f - self.buf_start..f - self.buf_start + FRAME]);
            self.classify(f, db);
            self.next_frame += FRAME;
        }
        self.trim();
        std::mem::take(&mut self.ready)
    }

    /// End of stream: returns the last windows.
    pub fn finish(&mut self) -> Vec<Window> {
        if let Some((start, last_end, speech)) = self.open.take() {
            self.close_region(start, last_end, speech);
        }
        if !self.current.samples.is_empty() {
            let w = std::mem::take(&mut self.current);
            self.ready.push(w);
        }
        std::mem::take(&mut self.ready)
    }

    fn classify(&mut self, f: usize, db: f32) {
        // Noise floor: follows quiet frames at once, rises slowly (about 3 dB/s) under speech.
        if db < self.floor_db {
            self.floor_db = db.max(-90.0);
        } else {
            self.floor_db += 0.06;
        }
        let speech = db > self.s.min_db && db > self.floor_db + self.s.margin_db;
        match self.open.as_mut() {
            Some((start, last_end, count)) => {
                self.region_db.push(db);
                if speech {
                    *last_end = f + FRAME;
                    *count += FRAME;
                    self.silence = 0;
                } else {
                    self.silence += 1;
                }
                let (start, last_end, count) = (*start, *last_end, *count);
                if self.silence >= self.s.hangover_frames {
                    self.open = None;
                    self.close_region(start, last_end, count);
                } else if f + FRAME - start >= N_SAMPLES - 2 * self.s.pad {
                    // Too long for one window: cut at the quietest frame of the last third.
                    let n = self.region_db.len();
                    let from = n * 2 / 3;
                    let (i, _) = self.region_db[from..].iter().enumerate().fold((0, f32::INFINITY), |acc, (i, v)| if *v < acc.1 { (i, *v) } else { acc });
                    let cut = start + (from + i) * FRAME;
                    let rest: Vec<f32> = self.region_db[from + i..].to_vec();
                    self.close_region(start, cut, count);
                    self.region_db = rest;
                    self.open = Some((cut, last_end.max(cut), FRAME));
                    self.silence = 0;
                }
            }
            None => {
                if speech {
                    if self.run == 0 {
                        self.run_start = f;
                    }
                    self.run += 1;
                    if self.run >= self.s.min_speech_frames {
                        self.open = Some((self.run_start, f + FRAME, self.run * FRAME));
                        self.region_db = vec![db; self.run];
                        self.run = 0;
                        self.silence = 0;
                    }
                } else {
                    self.run = 0;
                }
            }
        }
    }

    fn close_region(&mut self, start: usize, end: usize, speech: usize) {
        self.region_db.clear();
        if speech < self.s.min_region || end <= start {
            return;
        }
        let a = start.saturating_sub(self.s.pad).max(self.buf_start);
        let avail_end = self.buf_start + self.buf.len();
        let b = (end + self.s.pad).min(avail_end);
        // Do not repeat samples already placed in the current window.
        let a = match self.current.spans.last() {
            Some(s) if s.source + s.len > a => s.source + s.len,
            _ => a,
        };
        if b <= a {
            return;
        }
        let len = b - a;
        if self.current.samples.len() + len > N_SAMPLES && !self.current.samples.is_empty() {
            let w = std::mem::take(&mut self.current);
            self.ready.push(w);
        }
        let len = len.min(N_SAMPLES - self.current.samples.len());
        let at = self.current.samples.len();
        self.current.samples.extend_from_slice(&self.buf[a - self.buf_start..a - self.buf_start + len]);
        // Merge with the previous span when contiguous.
        match self.current.spans.last_mut() {
            Some(s) if s.source + s.len == a && s.at + s.len == at => s.len += len,
            _ => self.current.spans.push(Span { at, source: a, len }),
        }
    }

    /// Drop buffered samples no region can need any more.
    fn trim(&mut self) {
        let keep_from = match self.open {
            Some((start, _, _)) => start.saturating_sub(self.s.pad),
            None => {
                let pending_run = if self.run > 0 { self.run_start } else { self.next_frame };
                pending_run.saturating_sub(self.s.pad)
            }
        };
        let keep_from = keep_from.max(self.buf_start);
        let drop = keep_from - self.buf_start;
        if drop > SAMPLE_RATE {
            self.buf.drain(..drop);
            self.buf_start = keep_from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tone whose loudness rises and falls three times a second, like syllables.
    fn tone(secs: f32, amp: f32) -> Vec<f32> {
        (0..(secs * SAMPLE_RATE as f32) as usize)
            .map(|i| {
                let t = i as f32 / SAMPLE_RATE as f32;
                let env = 0.55 + 0.45 * (t * 3.0 * 2.0 * std::f32::consts::PI).sin();
                (i as f32 * 0.07).sin() * amp * env
            })
            .collect()
    }

    fn run(stream: &[f32]) -> Vec<Window> {
        let mut s = Segmenter::new(VadSettings::default());
        let mut out = Vec::new();
        for block in stream.chunks(3000) {
            out.extend(s.push(block));
        }
        out.extend(s.finish());
        out
    }

    #[test]
    fn silence_gives_no_window() {
        assert!(run(&vec![0.0; SAMPLE_RATE * 60]).is_empty());
        let noise: Vec<f32> = (0..SAMPLE_RATE * 10).map(|i| ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.001).collect();
        assert!(run(&noise).is_empty());
    }

    #[test]
    fn speech_regions_map_back_to_stream_time() {
        let mut stream = vec![0.0; SAMPLE_RATE * 5];
        stream.extend(tone(2.0, 0.3));
        stream.extend(vec![0.0; SAMPLE_RATE * 10]);
        stream.extend(tone(1.0, 0.3));
        let w = run(&stream);
        assert_eq!(w.len(), 1);
        let w = &w[0];
        assert_eq!(w.spans.len(), 2, "{:?}", w.spans);
        // The window is short: silence between the regions was removed.
        assert!(w.samples.len() < SAMPLE_RATE * 4);
        let t0 = w.stream_time(0.2);
        assert!((t0 - 5.0).abs() < 0.1, "{t0}");
        let second = w.spans[1].at as f32 / SAMPLE_RATE as f32;
        let t1 = w.stream_time(second + 0.2);
        assert!((t1 - 17.0).abs() < 0.1, "{t1}");
    }

    #[test]
    fn long_speech_is_cut_into_windows() {
        let stream = tone(75.0, 0.3);
        let w = run(&stream);
        assert!(w.len() >= 3, "{}", w.len());
        assert!(w.iter().all(|w| w.samples.len() <= N_SAMPLES));
        let total: usize = w.iter().map(|w| w.samples.len()).sum();
        assert!(total >= SAMPLE_RATE * 74, "{total}");
    }
}
