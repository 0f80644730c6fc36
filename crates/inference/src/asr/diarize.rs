//! Speaker partitioning of one channel: which speech region was said by which speaker.
//!
//! Each speech region the detector found ([`super::segment`]) gets a voice signature: the mean
//! and standard deviation of its log-mel power over its voiced frames (the louder half), after
//! subtracting the recording's average (cepstral-mean-style normalisation, so the channel's
//! colouring cancels). Signatures are clustered by average-linkage agglomerative clustering on
//! cosine distance, stopping at [`MERGE_DISTANCE`] and never keeping more clusters than the
//! request allows; short regions (< 0.6 s, too little voice) take the label of the nearest
//! cluster. Speakers are numbered in order of first appearance.
//!
//! This is spectral statistics, not a neural speaker-embedding model (none ships in a
//! registry package with weights this engine can load): it separates voices that differ in
//! pitch and timbre (a man and a woman, two synthetic voices) and regions split by turn-taking
//! pauses; two similar voices, or speakers who overlap without a pause, are merged.

use super::mel::{MelExtractor, N_MELS, SAMPLE_RATE};

/// Average-linkage cosine distance above which clusters stay apart.
pub const MERGE_DISTANCE: f32 = 0.25;
/// Regions shorter than this (samples) do not seed clusters.
const MIN_SEED: usize = SAMPLE_RATE / 2;

/// One speech region: where it is (seconds of the channel) and its signature.
#[derive(Debug, Clone)]
pub struct Region {
    pub start: f64,
    pub end: f64,
    /// Samples of speech in the region.
    pub len: usize,
    sig: Vec<f32>,
}

/// The signature of a region's samples.
pub fn region(mel: &MelExtractor, samples: &[f32], start: f64, end: f64) -> Region {
    // Spectral shape per frame: loudness (the frame's mean level) removed.
    let frames: Vec<[f32; N_MELS]> = mel
        .log_power_frames(samples)
        .into_iter()
        .map(|mut f| {
            let m = f.iter().sum::<f32>() / N_MELS as f32;
            f.iter_mut().for_each(|v| *v -= m);
            f
        })
        .collect();
    let loud: Vec<f32> = mel.log_power_frames(samples).iter().map(|f| f.iter().sum::<f32>()).collect();
    let mut energy: Vec<(f32, usize)> = loud.iter().enumerate().map(|(i, e)| (*e, i)).collect();
    energy.sort_by(|a, b| b.0.total_cmp(&a.0));
    let voiced: Vec<&[f32; N_MELS]> = energy.iter().take(energy.len().div_ceil(2).max(1)).filter_map(|(_, i)| frames.get(*i)).collect();
    let n = voiced.len().max(1) as f32;
    let mut sig = vec![0f32; 2 * N_MELS];
    for f in &voiced {
        for (m, v) in f.iter().enumerate() {
            sig[m] += v / n;
        }
    }
    for f in &voiced {
        for (m, v) in f.iter().enumerate() {
            sig[N_MELS + m] += (v - sig[m]).powi(2) / n;
        }
    }
    for v in &mut sig[N_MELS..] {
        *v = v.sqrt();
    }
    Region { start, end, len: samples.len(), sig }
}

fn cosine_distance(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        return 1.0;
    }
    1.0 - dot / (na * nb)
}

/// A speaker number for each region (0-based, in order of first appearance), at most
/// `max_speakers` distinct.
pub fn cluster(regions: &[Region], max_speakers: usize) -> Vec<usize> {
    if regions.is_empty() {
        return Vec::new();
    }
    let max_speakers = max_speakers.max(1);
    // Remove the recording's mean signature.
    let dim = regions[0].sig.len();
    let total: f32 = regions.iter().map(|r| r.len as f32).sum::<f32>().max(1.0);
    let mut mean = vec![0f32; dim];
    for r in regions {
        for (m, v) in r.sig.iter().enumerate() {
            mean[m] += v * r.len as f32 / total;
        }
    }
    let sigs: Vec<Vec<f32>> = regions.iter().map(|r| r.sig.iter().zip(&mean).map(|(a, b)| a - b).collect()).collect();
    let seeds: Vec<usize> = (0..regions.len()).filter(|&i| regions[i].len >= MIN_SEED).collect();
    let seeds = if seeds.is_empty() { (0..regions.len()).collect() } else { seeds };
    // Agglomerative clustering of the seeds.
    let mut clusters: Vec<Vec<usize>> = seeds.iter().map(|&i| vec![i]).collect();
    let dist = |a: &Vec<usize>, b: &Vec<usize>| -> f32 {
        let mut s = 0f32;
        for &i in a {
            for &j in b {
                s += cosine_distance(&sigs[i], &sigs[j]);
            }
        }
        s / (a.len() * b.len()) as f32
    };
    while clusters.len() > 1 {
        let mut best = (f32::INFINITY, 0, 0);
        for i in 0..clusters.len() {
            for j in i + 1..clusters.len() {
                let d = dist(&clusters[i], &clusters[j]);
                if d < best.0 {
                    best = (d, i, j);
                }
            }
        }
        if best.0 > MERGE_DISTANCE && clusters.len() <= max_speakers {
            break;
        }
        let merged = clusters.remove(best.2);
        clusters[best.1].extend(merged);
    }
    // Every region (seeds and short ones) to its nearest cluster.
    let mut label: Vec<usize> = (0..regions.len())
        .map(|i| {
            let mut best = (f32::INFINITY, 0);
            for (c, members) in clusters.iter().enumerate() {
                let d = members.iter().map(|&j| cosine_distance(&sigs[i], &sigs[j])).sum::<f32>() / members.len() as f32;
                if d < best.0 {
                    best = (d, c);
                }
            }
            best.1
        })
        .collect();
    // Smooth: a lone piece between two touching pieces of one other speaker joins them.
    for i in 1..label.len().saturating_sub(1) {
        let touching = regions[i].start - regions[i - 1].end < 0.05 && regions[i + 1].start - regions[i].end < 0.05;
        if touching && label[i - 1] == label[i + 1] && label[i] != label[i - 1] {
            label[i] = label[i - 1];
        }
    }
    // Number speakers by first appearance.
    let mut order: Vec<usize> = Vec::new();
    for &l in &label {
        if !order.contains(&l) {
            order.push(l);
        }
    }
    for l in &mut label {
        *l = order.iter().position(|o| o == l).unwrap_or(0);
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A buzzy "voice": harmonics of `f0` under a formant-like envelope peaking at `formant`.
    fn voice(f0: f32, formant: f32, secs: f32) -> Vec<f32> {
        let n = (secs * SAMPLE_RATE as f32) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / SAMPLE_RATE as f32;
                let mut v = 0.0;
                let mut h = 1.0;
                while h * f0 < 4000.0 {
                    let f = h * f0;
                    let gain = (-((f - formant) / 600.0).powi(2)).exp() + 0.05;
                    v += gain * (2.0 * std::f32::consts::PI * f * t).sin();
                    h += 1.0;
                }
                v * 0.1
            })
            .collect()
    }

    #[test]
    fn two_voices_become_two_speakers() {
        let mel = MelExtractor::new();
        let a = voice(110.0, 700.0, 1.5);
        let b = voice(220.0, 1800.0, 1.5);
        let regions: Vec<Region> = [&a, &b, &a, &b, &a].iter().enumerate().map(|(i, s)| region(&mel, s, i as f64 * 2.0, i as f64 * 2.0 + 1.5)).collect();
        assert_eq!(cluster(&regions, 4), vec![0, 1, 0, 1, 0]);
        assert_eq!(cluster(&regions, 1), vec![0, 0, 0, 0, 0]);
        let same: Vec<Region> = (0..3).map(|i| region(&mel, &a, i as f64, i as f64 + 1.0)).collect();
        assert_eq!(cluster(&same, 4), vec![0, 0, 0]);
    }
}
