//! Small leaf helpers that any layer may use: error chains, the nearest
//! word for a "did you mean", texts kept once. No I/O.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Texts kept once: each distinct text is one `Arc<str>`, shared by every
/// holder (a run's notes, said of thousands of targets; the simulation's
/// sets, which point at one list).
#[derive(Debug, Default)]
pub(crate) struct Texts(Mutex<HashSet<Arc<str>>>);

impl Texts {
    /// `text`, shared with every earlier holder of the same.
    pub(crate) fn get(&self, text: &str) -> Arc<str> {
        let mut texts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match texts.get(text) {
            Some(kept) => Arc::clone(kept),
            None => {
                let kept: Arc<str> = Arc::from(text);
                texts.insert(Arc::clone(&kept));
                kept
            }
        }
    }
}

/// An error and its sources on one line, each cause once: messages such as
/// reqwest's "error sending request" hide the cause otherwise.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// The candidate closest to `word` (at most two edits away), for a
/// "did you mean".
pub(crate) fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The edit distance between two words.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_kept_once() {
        let texts = Texts::default();
        let a = texts.get("covered");
        assert!(Arc::ptr_eq(&a, &texts.get("covered")));
        assert!(!Arc::ptr_eq(&a, &texts.get("uncovered")));
        assert_eq!(&*texts.get("uncovered"), "uncovered");
    }
}
