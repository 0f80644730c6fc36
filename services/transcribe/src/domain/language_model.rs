//! Custom language models: "training" on the domain text under an S3 prefix, and the decoding
//! hints a trained model gives.
//!
//! Whisper cannot be fine-tuned on a 2-core CPU in minutes, so a Hearth custom language model
//! is shallow fusion, the standard way to adapt an end-to-end recogniser to a domain without
//! retraining it: training counts the words and word pairs of the text, keeps the terms that
//! are frequent in the domain but not common English (a built-in list of the most frequent
//! English words), and the sentences that carry most of those terms. At decoding time the
//! sentences become the decoder's prompt and the terms a phrase bonus (weaker than a custom
//! vocabulary's), so in-domain words win over sound-alike common words.

use std::collections::HashMap;

use hearth_inference::asr::Biasing;
use serde::{Deserialize, Serialize};

/// Logit bonus of language-model terms (weaker than a vocabulary's).
pub const LM_STRENGTH: f32 = 2.5;
/// Terms kept.
pub const MAX_TERMS: usize = 80;
/// Characters of example sentences kept for the prompt.
pub const MAX_PROMPT_CHARS: usize = 600;
/// Largest training corpus read (bytes).
pub const MAX_TRAINING_BYTES: usize = 64 * 1024 * 1024;

/// What training learned.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TrainedModel {
    /// Domain terms (single words and frequent pairs), most useful first.
    pub terms: Vec<String>,
    /// Example sentences used as the decoder's prompt.
    pub prompt: String,
    /// Training files and words read.
    pub documents: usize,
    pub words: usize,
}

impl TrainedModel {
    /// The decoding hints of this model.
    pub fn biasing(&self) -> Biasing {
        Biasing { prompt: self.prompt.clone(), phrases: self.terms.clone(), strength: LM_STRENGTH, aliases: Vec::new() }
    }
}

/// The most frequent English words (a term must not be one of these).
const COMMON: &str = "the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she or an will my one all would there their what so up out if about who get which go me when make can like time no just him know take people into year your good some could them see other than then now look only come its over think also back after use two how our work first well way even new want because any these give day most us is are was were been has had did does said am thank thanks please hello hi yes yeah okay ok sure right really very much help call calling today let need may might should here where why more many been being let's i'm you're it's that's don't can't i'll we'll there's what's";

fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')' | '"' | '!' | '?'))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
        .filter(|w| !w.is_empty() && w.chars().any(char::is_alphabetic))
        .collect()
}

/// Train on the given documents.
pub fn train(documents: &[String]) -> Result<TrainedModel, String> {
    let common: std::collections::HashSet<&str> = COMMON.split_whitespace().collect();
    let mut uni: HashMap<String, (usize, String)> = HashMap::new();
    let mut bi: HashMap<(String, String), usize> = HashMap::new();
    let mut total = 0usize;
    let mut sentences: Vec<String> = Vec::new();
    for doc in documents {
        for sentence in doc.split(['.', '\n', '?', '!']) {
            let s = sentence.trim();
            if s.split_whitespace().count() >= 3 {
                sentences.push(s.to_string());
            }
        }
        let ws = words_of(doc);
        total += ws.len();
        for w in &ws {
            let e = uni.entry(w.to_lowercase()).or_insert((0, w.clone()));
            e.0 += 1;
            // Keep the most capitalised spelling seen (product names).
            if w.chars().filter(|c| c.is_uppercase()).count() > e.1.chars().filter(|c| c.is_uppercase()).count() {
                e.1 = w.clone();
            }
        }
        for p in ws.windows(2) {
            *bi.entry((p[0].to_lowercase(), p[1].to_lowercase())).or_default() += 1;
        }
    }
    if total < 20 {
        return Err("The training data has too little text: add at least a few sentences of domain text (UTF-8 plain text files).".into());
    }
    let mut scored: Vec<(f64, String)> = uni
        .iter()
        .filter(|(w, (n, _))| *n >= 2 && w.len() >= 3 && !common.contains(w.as_str()))
        .map(|(_, (n, shown))| {
            let capital = shown.chars().next().is_some_and(char::is_uppercase) as u8 as f64;
            ((*n as f64).ln() + 1.0 + capital, shown.clone())
        })
        .collect();
    for ((a, b), n) in &bi {
        if *n >= 3 && !common.contains(a.as_str()) && !common.contains(b.as_str()) {
            let shown = format!("{} {}", uni.get(a).map_or(a.as_str(), |x| x.1.as_str()), uni.get(b).map_or(b.as_str(), |x| x.1.as_str()));
            scored.push(((*n as f64).ln() + 1.5, shown));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let terms: Vec<String> = scored.into_iter().map(|(_, t)| t).take(MAX_TERMS).collect();
    // Prompt: the sentences that hold the most distinct terms.
    let lowered: Vec<String> = terms.iter().map(|t| t.to_lowercase()).collect();
    let mut ranked: Vec<(usize, &String)> = sentences
        .iter()
        .map(|s| {
            let l = s.to_lowercase();
            (lowered.iter().filter(|t| l.contains(t.as_str())).count(), s)
        })
        .filter(|(n, _)| *n > 0)
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.len().cmp(&b.1.len())));
    let mut prompt = String::new();
    for (_, s) in ranked {
        if prompt.len() + s.len() + 2 > MAX_PROMPT_CHARS {
            continue;
        }
        prompt.push_str(s);
        prompt.push_str(". ");
    }
    Ok(TrainedModel { terms, prompt: prompt.trim().to_string(), documents: documents.len(), words: total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_domain_terms_and_prompt() {
        let docs = vec![
            "To publish your Wix site, open the Wix Editor and click Publish. The Wix Editor saves drafts automatically.".to_string(),
            "Velo by Wix lets you add code. Connect your domain in the Wix dashboard. Premium plans include a free domain.".to_string(),
            "If the Wix Editor is slow, clear the cache. Velo code runs on the Wix servers.".to_string(),
        ];
        let m = train(&docs).unwrap();
        assert!(m.terms.iter().any(|t| t == "Wix"), "{:?}", m.terms);
        assert!(m.terms.iter().any(|t| t == "Velo"), "{:?}", m.terms);
        assert!(m.terms.iter().any(|t| t == "Wix Editor"), "{:?}", m.terms);
        assert!(!m.terms.iter().any(|t| t.eq_ignore_ascii_case("the")));
        assert!(m.prompt.contains("Wix"));
        assert!(m.prompt.len() <= MAX_PROMPT_CHARS);
        assert!(train(&["too short".to_string()]).is_err());
    }
}
