//! Small leaf helpers that any layer may use: error chains. Pure.

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
