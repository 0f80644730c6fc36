//! Whisper's input features: the 80-bin log-mel spectrogram of 16 kHz audio, computed exactly
//! as `whisper.audio.log_mel_spectrogram` does (periodic Hann window of 400 samples, hop 160,
//! centred frames with reflect padding, power spectrum, Slaney-style mel filterbank as
//! `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)`, `log10` clamped at 1e-10, floor at
//! the maximum − 8, then `(x + 4) / 4`).
//!
//! The filterbank is computed here rather than read from `mel_filters.npz`; a unit test checks
//! it against values of that file. The FFT is `rustfft` (any length; 400 is not a power of two).

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// Sample rate the model expects.
pub const SAMPLE_RATE: usize = 16_000;
/// FFT size (25 ms).
pub const N_FFT: usize = 400;
/// Hop between frames (10 ms).
pub const HOP: usize = 160;
/// Mel bins.
pub const N_MELS: usize = 80;
/// Samples in one 30 s window.
pub const N_SAMPLES: usize = 30 * SAMPLE_RATE;
/// Frames in one 30 s window.
pub const N_FRAMES: usize = N_SAMPLES / HOP;

/// Computes log-mel spectrograms; holds the filterbank, window and FFT plan.
pub struct MelExtractor {
    filters: Vec<f32>, // N_MELS × (N_FFT/2 + 1), row-major
    /// Per mel bin, the range of FFT bins where its filter is non-zero.
    spans: Vec<(usize, usize)>,
    window: Vec<f32>,
    fft: Arc<dyn Fft<f32>>,
}

impl std::fmt::Debug for MelExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MelExtractor").finish_non_exhaustive()
    }
}

impl Default for MelExtractor {
    fn default() -> Self {
        Self::new()
    }
}

impl MelExtractor {
    /// Build the filterbank, window and FFT plan.
    pub fn new() -> Self {
        let window = (0..N_FFT).map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos()).map(|w| w as f32).collect();
        let fft = FftPlanner::new().plan_fft_forward(N_FFT);
        let filters = mel_filters(SAMPLE_RATE as f64, N_FFT, N_MELS);
        let n_bins = N_FFT / 2 + 1;
        let spans = (0..N_MELS)
            .map(|m| {
                let row = &filters[m * n_bins..(m + 1) * n_bins];
                let first = row.iter().position(|v| *v != 0.0).unwrap_or(0);
                let last = row.iter().rposition(|v| *v != 0.0).map_or(0, |l| l + 1);
                (first, last.max(first))
            })
            .collect();
        MelExtractor { filters, spans, window, fft }
    }

    /// The log-mel spectrogram of `samples` (16 kHz mono) zero-padded (or cut) to one 30 s
    /// window: `N_MELS × N_FRAMES` values, row-major (mel bin by frame).
    pub fn window_features(&self, samples: &[f32]) -> Vec<f32> {
        let mut padded = vec![0f32; N_SAMPLES];
        let n = samples.len().min(N_SAMPLES);
        padded[..n].copy_from_slice(&samples[..n]);
        self.log_mel(&padded, N_FRAMES)
    }

    /// Raw log10 mel power of every hop of `samples` (no padding, no normalisation):
    /// `frames × N_MELS`, for speaker features.
    pub fn log_power_frames(&self, samples: &[f32]) -> Vec<[f32; N_MELS]> {
        if samples.len() < N_FFT {
            return Vec::new();
        }
        let frames = samples.len() / HOP;
        let mel = self.log_mel_raw(samples, frames);
        (0..frames)
            .map(|f| {
                let mut row = [0f32; N_MELS];
                for (m, v) in row.iter_mut().enumerate() {
                    *v = mel[m * frames + f];
                }
                row
            })
            .collect()
    }

    /// Log-mel of `samples`, keeping the first `frames` frames (whisper drops the last of the
    /// `1 + len / HOP` centred frames).
    fn log_mel(&self, samples: &[f32], frames: usize) -> Vec<f32> {
        let mut mel = self.log_mel_raw(samples, frames);
        let max = mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for v in &mut mel {
            *v = ((*v).max(max - 8.0) + 4.0) / 4.0;
        }
        mel
    }

    /// log10 mel power, `N_MELS × frames` row-major, before whisper's normalisation.
    fn log_mel_raw(&self, samples: &[f32], frames: usize) -> Vec<f32> {
        let n_bins = N_FFT / 2 + 1;
        let pad = N_FFT / 2;
        let len = samples.len();
        // Reflect padding (torch.stft center=True, pad_mode="reflect").
        let at = |i: isize| -> f32 {
            let n = len as isize;
            let mut j = i - pad as isize;
            if j < 0 {
                j = -j;
            }
            if j >= n {
                j = 2 * (n - 1) - j;
            }
            samples[j.clamp(0, n - 1) as usize]
        };
        let mut power = vec![0f32; n_bins];
        let mut buf = vec![Complex::new(0f32, 0f32); N_FFT];
        let mut scratch = vec![Complex::new(0f32, 0f32); self.fft.get_inplace_scratch_len()];
        let mut mel = vec![0f32; N_MELS * frames];
        for f in 0..frames {
            let start = (f * HOP) as isize;
            for (k, b) in buf.iter_mut().enumerate() {
                *b = Complex::new(at(start + k as isize) * self.window[k], 0.0);
            }
            self.fft.process_with_scratch(&mut buf, &mut scratch);
            for (p, c) in power.iter_mut().zip(&buf[..n_bins]) {
                *p = c.norm_sqr();
            }
            for (m, &(lo, hi)) in self.spans.iter().enumerate() {
                let row = &self.filters[m * n_bins + lo..m * n_bins + hi];
                let s: f32 = row.iter().zip(&power[lo..hi]).map(|(a, b)| a * b).sum();
                mel[m * frames + f] = s.max(1e-10).log10();
            }
        }
        mel
    }
}

fn hz_to_mel(f: f64) -> f64 {
    // Slaney: linear below 1 kHz, logarithmic above.
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = (6.4f64).ln() / 27.0;
    if f >= min_log_hz {
        min_log_mel + (f / min_log_hz).ln() / logstep
    } else {
        f / f_sp
    }
}

fn mel_to_hz(m: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = (6.4f64).ln() / 27.0;
    if m >= min_log_mel {
        min_log_hz * (logstep * (m - min_log_mel)).exp()
    } else {
        f_sp * m
    }
}

/// `librosa.filters.mel(sr, n_fft, n_mels)` with its defaults (fmin 0, fmax sr/2, Slaney mel
/// scale, Slaney area normalisation): `n_mels × (n_fft/2 + 1)`, row-major.
pub fn mel_filters(sr: f64, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_bins).map(|k| k as f64 * sr / n_fft as f64).collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2).map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64)).collect();
    let mut out = vec![0f32; n_mels * n_bins];
    for m in 0..n_mels {
        let (f0, f1, f2) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
        let enorm = 2.0 / (f2 - f0);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - f0) / (f1 - f0);
            let upper = (f2 - f) / (f2 - f1);
            out[m * n_bins + k] = (lower.min(upper).max(0.0) * enorm) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filterbank_matches_whisper_assets() {
        // Values of `mel_80` in openai-whisper's assets/mel_filters.npz.
        let f = mel_filters(16000.0, 400, 80);
        let row1 = &f[201..201 + 6];
        let want = [0.0f32, 0.001_990_82, 0.022_871_77, 0.0, 0.0, 0.0];
        for (a, b) in row1.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{row1:?}");
        }
        let total: f32 = f.iter().sum();
        assert!((total - 1.999_024_2).abs() < 1e-4, "{total}");
    }

    #[test]
    fn features_have_the_window_shape_and_range() {
        let mel = MelExtractor::new();
        let tone: Vec<f32> = (0..SAMPLE_RATE).map(|i| (i as f32 * 440.0 * 2.0 * std::f32::consts::PI / SAMPLE_RATE as f32).sin() * 0.5).collect();
        let feats = mel.window_features(&tone);
        assert_eq!(feats.len(), N_MELS * N_FRAMES);
        let max = feats.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let min = feats.iter().copied().fold(f32::INFINITY, f32::min);
        assert!(max <= 1.0 + 4.0 / 4.0 + 3.0 && min >= max - 2.0 - 1e-5, "{min} {max}");
        // 440 Hz lands in a low mel bin, strongest in the first second.
        let frame = 50;
        let col: Vec<f32> = (0..N_MELS).map(|m| feats[m * N_FRAMES + frame]).collect();
        let best = col.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert!((5..20).contains(&best), "peak bin {best}");
    }
}
