//! Whisper's vocabulary: the GPT-2 byte-level BPE of the packaged `tokenizer.json` (read with
//! Hugging Face `tokenizers`) plus the special tokens around it (start of transcript, end of
//! text, no-speech, no-timestamps, previous-context marker).
//!
//! Besides encoding prompts and decoding tokens to text, this gives the raw bytes of each token
//! (undoing GPT-2's byte→character map), which word splitting needs: a word starts at a token
//! whose bytes begin with a space, and punctuation is its own word (openai-whisper
//! `split_tokens_on_spaces`).

use std::collections::HashMap;
use std::path::Path;

use tokenizers::Tokenizer;

/// Special token ids of a Whisper vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Specials {
    /// `<|endoftext|>`.
    pub eot: u32,
    /// `<|startoftranscript|>`.
    pub sot: u32,
    /// `<|startofprev|>`: the previous-text (prompt) marker.
    pub sot_prev: u32,
    /// `<|nocaptions|>` / `<|nospeech|>`.
    pub no_speech: u32,
    /// `<|notimestamps|>`.
    pub no_timestamps: u32,
    /// `<|en|>` for multilingual vocabularies (English-only ones have no language tokens).
    pub en: Option<u32>,
    /// `<|transcribe|>` for multilingual vocabularies.
    pub transcribe: Option<u32>,
}

/// The tokenizer and its per-token bytes.
pub struct Vocab {
    tokenizer: Tokenizer,
    /// Bytes of every ordinary (BPE) token, by id.
    bytes: Vec<Vec<u8>>,
    /// Special token ids.
    pub specials: Specials,
    /// Whether the vocabulary has language tokens (multilingual model).
    pub multilingual: bool,
    /// Language tokens of a multilingual vocabulary, in the model's order: (code such as
    /// `en`, token id). Empty for English-only models.
    pub languages: Vec<(String, u32)>,
}

impl std::fmt::Debug for Vocab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocab").field("specials", &self.specials).finish_non_exhaustive()
    }
}

/// GPT-2's map from bytes to printable characters, inverted.
fn unicode_to_byte() -> HashMap<char, u8> {
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32).chain(0xA1..=0xAC).chain(0xAE..=0xFF).collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    bs.into_iter().zip(cs).filter_map(|(b, c)| char::from_u32(c).map(|c| (c, b as u8))).collect()
}

impl Vocab {
    /// Load `tokenizer.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Vocab, String> {
        let path = dir.join("tokenizer.json");
        let tokenizer = Tokenizer::from_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let id = |s: &str| tokenizer.token_to_id(s).ok_or_else(|| format!("tokenizer.json has no {s}"));
        let eot = id("<|endoftext|>")?;
        let no_speech = id("<|nospeech|>").or_else(|_| id("<|nocaptions|>"))?;
        let en = tokenizer.token_to_id("<|en|>");
        let transcribe = tokenizer.token_to_id("<|transcribe|>");
        let specials = Specials {
            eot,
            sot: id("<|startoftranscript|>")?,
            sot_prev: id("<|startofprev|>")?,
            no_speech,
            no_timestamps: id("<|notimestamps|>")?,
            en,
            transcribe,
        };
        let map = unicode_to_byte();
        let bytes = (0..eot)
            .map(|i| tokenizer.id_to_token(i).map(|t| t.chars().filter_map(|c| map.get(&c).copied()).collect()).unwrap_or_default())
            .collect();
        // English-only vocabularies carry the language tokens as added tokens too, but their
        // models never saw them: multilingual models have one more token (51865).
        let multilingual = tokenizer.get_vocab_size(true) >= 51865;
        // Language tokens follow <|startoftranscript|> up to <|translate|>.
        let mut languages = Vec::new();
        if multilingual {
            let mut id = specials.sot + 1;
            while let Some(t) = tokenizer.id_to_token(id) {
                match t.strip_prefix("<|").and_then(|t| t.strip_suffix("|>")) {
                    Some(code) if code != "translate" && (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase()) => languages.push((code.to_string(), id)),
                    _ => break,
                }
                id += 1;
            }
        }
        Ok(Vocab { tokenizer, bytes, specials, multilingual, languages })
    }

    /// The tokens that start a transcript: `<|startoftranscript|>` (+ the language token,
    /// `<|en|>` unless `language` names another, and `<|transcribe|>` on multilingual models)
    /// + `<|notimestamps|>`.
    pub fn sot_sequence(&self, language: Option<u32>) -> Vec<u32> {
        let s = &self.specials;
        let mut v = vec![s.sot];
        if self.multilingual {
            v.extend(language.or(s.en));
            v.extend(s.transcribe);
        }
        v.push(s.no_timestamps);
        v
    }

    /// The token of language `code` (`en`, `de`, …) on a multilingual vocabulary.
    pub fn language_token(&self, code: &str) -> Option<u32> {
        self.languages.iter().find(|(c, _)| c == code).map(|(_, id)| *id)
    }

    /// Token ids of `text` (no special tokens added).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, false).map(|e| e.get_ids().to_vec()).unwrap_or_default()
    }

    /// Raw bytes of an ordinary token (empty for special tokens).
    pub fn token_bytes(&self, id: u32) -> &[u8] {
        self.bytes.get(id as usize).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Text of ordinary tokens (special tokens are skipped).
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&i| self.token_bytes(i).iter().copied()).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Split ordinary tokens into words: (text with its leading space, token indexes). A word
    /// starts at a token beginning with a space, or is a punctuation mark; tokens that do not
    /// end a UTF-8 character are kept with the next ones.
    pub fn split_words(&self, ids: &[u32]) -> Vec<(String, Vec<usize>)> {
        // First group tokens into units that decode to whole characters.
        let mut units: Vec<(Vec<u8>, Vec<usize>)> = Vec::new();
        let mut pending: (Vec<u8>, Vec<usize>) = (Vec::new(), Vec::new());
        for (i, &id) in ids.iter().enumerate() {
            pending.0.extend_from_slice(self.token_bytes(id));
            pending.1.push(i);
            if std::str::from_utf8(&pending.0).is_ok() {
                units.push(std::mem::take(&mut pending));
            }
        }
        if !pending.1.is_empty() {
            units.push(pending);
        }
        let mut words: Vec<(String, Vec<usize>)> = Vec::new();
        for (bytes, idx) in units {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let trimmed = text.trim();
            let punct = !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_punctuation());
            if text.starts_with(' ') || punct || words.is_empty() {
                words.push((text, idx));
            } else if let Some(last) = words.last_mut() {
                last.0.push_str(&text);
                last.1.extend(idx);
            }
        }
        words
    }
}
