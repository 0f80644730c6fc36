//! Custom vocabularies: parsing (the `Phrases` list, or a file in AWS's list or table format:
//! `Phrase<TAB>SoundsLike<TAB>IPA<TAB>DisplayAs`), the hints they give the recogniser
//! ([`biasing`]: the phrases go into the decoder's prompt and phrase-trie bonus; each
//! sounds-like form becomes an alias the decoder replaces by the phrase only where it scores the
//! phrase about as likely in context, so "weeks" becomes "Wix" in "the weeks editor" but not in
//! "two weeks ago"), and the rewrite they make in the transcript ([`apply`]: a run of
//! recognised words that matches a phrase, in any case or written as one word, is written as
//! the phrase's DisplayAs, or as the phrase).
//!
//! Limits as AWS documents them: a file of at most 50 KB, phrases of at most 256 characters,
//! English phrases made of letters, apostrophes, periods (acronyms) and hyphens (word breaks
//! in the table format), SoundsLike parts separated by hyphens.

use hearth_inference::asr::{Biasing, Word};

use crate::store::VocabularyEntry;

/// Largest vocabulary file (50 KB).
pub const MAX_FILE_BYTES: usize = 50 * 1024;

/// Logit bonus of vocabulary phrases (see `hearth_inference::asr::decode`).
pub const VOCABULARY_STRENGTH: f32 = 5.0;

fn valid_phrase(p: &str) -> bool {
    !p.is_empty() && p.chars().count() <= 256 && p.chars().all(|c| c.is_alphabetic() || matches!(c, '\'' | '.' | '-' | ' '))
}

/// Entries from the `Phrases` parameter (each phrase a word or hyphen-joined words).
pub fn from_phrases(phrases: &[String]) -> Result<Vec<VocabularyEntry>, String> {
    let mut out = Vec::new();
    for p in phrases {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        if !valid_phrase(p) {
            return Err(format!("The vocabulary phrase \"{p}\" contains characters that aren't supported for en-US. Phrases can contain letters, apostrophes, periods and hyphens."));
        }
        out.push(VocabularyEntry { phrase: p.replace('-', " "), sounds_like: Vec::new(), ipa: None, display_as: None });
    }
    if out.is_empty() {
        return Err("The vocabulary has no phrases.".into());
    }
    Ok(out)
}

/// Entries from a vocabulary file (list format: one phrase per line; table format: a header
/// line `Phrase<TAB>…` then tab-separated rows).
pub fn from_file(text: &str) -> Result<Vec<VocabularyEntry>, String> {
    if text.len() > MAX_FILE_BYTES {
        return Err("The vocabulary file is larger than 50 KB. Reduce its size and try again.".into());
    }
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty()).peekable();
    let table = lines.peek().is_some_and(|h| h.split('\t').next().is_some_and(|c| c.trim().eq_ignore_ascii_case("phrase")));
    if !table {
        return from_phrases(&lines.map(|l| l.trim().to_string()).collect::<Vec<_>>());
    }
    let header: Vec<String> = lines.next().unwrap_or_default().split('\t').map(|c| c.trim().to_ascii_lowercase()).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (sounds, ipa, display) = (col("soundslike"), col("ipa"), col("displayas"));
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        let phrase = cells.first().copied().unwrap_or("");
        if !valid_phrase(phrase) || phrase.contains(' ') {
            return Err(format!("The vocabulary file has an invalid phrase on line {}: \"{phrase}\". Phrases can contain letters, apostrophes, periods and hyphens, and no spaces.", n + 2));
        }
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|s| s.to_string()).filter(|s| !s.is_empty());
        let sounds_like = cell(sounds).map(|s| vec![s.replace('-', " ")]).unwrap_or_default();
        out.push(VocabularyEntry { phrase: phrase.replace('-', " "), sounds_like, ipa: cell(ipa), display_as: cell(display) });
    }
    if out.is_empty() {
        return Err("The vocabulary has no phrases.".into());
    }
    Ok(out)
}

/// The decoding hints of vocabulary entries: the phrases (DisplayAs first, then the phrase)
/// and each sounds-like form as an alias of the DisplayAs.
pub fn biasing(entries: &[VocabularyEntry]) -> Biasing {
    let mut phrases: Vec<String> = Vec::new();
    let mut aliases: Vec<(String, String)> = Vec::new();
    for e in entries {
        let shown = e.display_as.clone().unwrap_or_else(|| e.phrase.clone());
        if !phrases.contains(&shown) {
            phrases.push(shown.clone());
        }
        if !phrases.contains(&e.phrase) {
            phrases.push(e.phrase.clone());
        }
        for s in &e.sounds_like {
            if !s.trim().is_empty() && norm(s) != norm(&shown) {
                aliases.push((s.trim().to_string(), shown.clone()));
            }
        }
    }
    Biasing { prompt: String::new(), phrases, strength: VOCABULARY_STRENGTH, aliases }
}

fn norm(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric() || *c == '\'').flat_map(char::to_lowercase).collect()
}

/// Rewrite `words` with the vocabulary: a run of words matching an entry's phrase (ignoring
/// case and punctuation, also when written as one word) becomes one word written as its
/// DisplayAs (or phrase), spanning the run's time. Sounds-like forms are not rewritten here:
/// the decoder decides them in context (see [`biasing`]), since the same sounds are often a
/// common word ("weeks").
pub fn apply(entries: &[VocabularyEntry], words: &mut Vec<Word>) {
    if entries.is_empty() || words.is_empty() {
        return;
    }
    // Patterns: (normalised word sequence, replacement), longest first.
    let mut patterns: Vec<(Vec<String>, String)> = Vec::new();
    for e in entries {
        let out = e.display_as.clone().unwrap_or_else(|| e.phrase.clone());
        for form in [&e.phrase] {
            let seq: Vec<String> = form.split_whitespace().map(norm).filter(|s| !s.is_empty()).collect();
            if !seq.is_empty() {
                patterns.push((seq.clone(), out.clone()));
                if seq.len() > 1 {
                    patterns.push((vec![seq.concat()], out.clone()));
                }
            }
        }
    }
    patterns.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    let mut out: Vec<Word> = Vec::with_capacity(words.len());
    let mut i = 0;
    'outer: while i < words.len() {
        for (seq, replacement) in &patterns {
            let n = seq.len();
            if i + n <= words.len() && words[i..i + n].iter().zip(seq).all(|(w, s)| norm(&w.text) == *s) {
                // Punctuation inside the run stops a match, except after its last word.
                if words[i..i + n - 1].iter().any(|w| w.punctuation.is_some()) {
                    continue;
                }
                let first = &words[i];
                let last = &words[i + n - 1];
                let conf = words[i..i + n].iter().map(|w| w.confidence).sum::<f32>() / n as f32;
                out.push(Word { start: first.start, end: last.end, text: replacement.clone(), punctuation: last.punctuation.clone(), confidence: conf, speaker: first.speaker });
                i += n;
                continue 'outer;
            }
        }
        out.push(words[i].clone());
        i += 1;
    }
    *words = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(t: &str, s: f64) -> Word {
        Word { start: s, end: s + 0.3, text: t.into(), punctuation: None, confidence: 0.9, speaker: None }
    }

    #[test]
    fn parses_list_and_table_files() {
        let list = from_file("Wix\nLos-Angeles\n\n").unwrap();
        assert_eq!(list[1].phrase, "Los Angeles");
        let table = from_file("Phrase\tSoundsLike\tIPA\tDisplayAs\nWix\tweeks\t\t\nWix.com\tweeks-dot-com\t\twix.com\nWix-Professionals\t\t\tWix Professionals\n").unwrap();
        assert_eq!(table.len(), 3);
        assert_eq!(table[0].sounds_like, vec!["weeks".to_string()]);
        assert_eq!(table[1].display_as.as_deref(), Some("wix.com"));
        assert_eq!(table[1].sounds_like, vec!["weeks dot com".to_string()]);
        assert!(from_file("Phrase\tDisplayAs\nhas space\tx\n").is_err());
        assert!(from_phrases(&["ok".into(), "n0t ok".into()]).is_err());
        assert!(from_file(&"a\n".repeat(30_000)).is_err());
    }

    #[test]
    fn rewrites_phrases_to_display_as_and_leaves_sounds_like_to_the_decoder() {
        let entries = from_file("Phrase\tSoundsLike\tIPA\tDisplayAs\nWix.com\tweeks-dot-com\t\tWix.com\nWix\tweeks\t\t\nEditor-X\t\t\tEditor X\n").unwrap();
        let mut words = vec![w("go", 0.0), w("to", 0.3), w("wix.com", 0.6), w("in", 1.2), w("two", 1.5), w("weeks", 1.8), w("editor", 2.1), w("x", 2.4)];
        words[2].punctuation = Some(".".into());
        apply(&entries, &mut words);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, vec!["go", "to", "Wix.com", "in", "two", "weeks", "Editor X"]);
        assert_eq!(words[2].punctuation.as_deref(), Some("."));
        assert!((words[6].end - 2.7).abs() < 1e-9);
        let b = biasing(&entries);
        assert!(b.phrases.contains(&"Wix.com".to_string()) && b.strength > 0.0);
        assert_eq!(b.aliases, vec![("weeks dot com".to_string(), "Wix.com".to_string()), ("weeks".to_string(), "Wix".to_string())]);
    }
}
