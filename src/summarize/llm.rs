//! The optional language-model summarizer: one request to an
//! OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp, a hosted
//! service) and the checks its answer must pass.
//!
//! Nothing here falls back: every failure comes back as an [`LlmError`] and
//! the caller (`summarize`) decides to answer with the local summarizer.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{json, Value};

use super::LlmConfig;

/// How much of the message is sent: enough for any reply worth summarizing, bounded for small models.
const MAX_CHARS: usize = 4000;

const SYSTEM_PROMPT: &str = "You write time-entry notes for Harvest. Summarize the help-desk message \
in 2 to 8 words, in the imperative, work-log style (for example: Fix SSO login redirect, Answer \
invoice question, Investigate slow report export). Use the message's language. Keep product names and \
error codes. No greeting, no quotes, no trailing punctuation. Answer with the note only, on one line.";

/// Why the model's note was not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LlmError {
    #[error("the model did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("could not reach the model server: {0}")]
    Unreachable(String),
    #[error("the model server answered HTTP {status}")]
    Status { status: u16 },
    #[error("the model server's answer was not a chat completion")]
    Malformed,
    #[error("the model's answer was not a 2–8 word note")]
    Invalid,
}

/// The chat-completions endpoint for a configured URL: a base (`…/v1`) or the endpoint itself.
pub(crate) fn endpoint(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if url.ends_with("/chat/completions") {
        url.to_owned()
    } else {
        format!("{url}/chat/completions")
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// Asks the model for a note about `text` (already cleaned) and checks the answer.
pub(crate) async fn ask(config: &LlmConfig, text: &str) -> Result<String, LlmError> {
    let client = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .build()
        .map_err(|e| LlmError::Unreachable(e.to_string()))?;
    let body = json!({
        "model": config.model,
        "messages": [
            { "role": "system", "content": SYSTEM_PROMPT },
            { "role": "user", "content": truncate(text, MAX_CHARS) },
        ],
        "temperature": 0,
        "max_tokens": 32,
        "stream": false,
    });
    let mut request = client.post(endpoint(&config.url)).json(&body);
    if let Some(key) = &config.key {
        request = request.bearer_auth(key.expose_secret());
    }
    let exchange = async {
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            return Ok(Err(LlmError::Status { status: status.as_u16() }));
        }
        response.json::<Value>().await.map(Ok)
    };
    // IMPORTANT: the outer timeout also bounds a server that sends headers and then stalls.
    let answer = match tokio::time::timeout(config.timeout, exchange).await {
        Err(_) => return Err(LlmError::Timeout(config.timeout)),
        Ok(Err(e)) if e.is_timeout() => return Err(LlmError::Timeout(config.timeout)),
        Ok(Err(e)) if e.is_decode() => return Err(LlmError::Malformed),
        Ok(Err(e)) => return Err(LlmError::Unreachable(e.without_url().to_string())),
        Ok(Ok(result)) => result?,
    };
    let content =
        answer.pointer("/choices/0/message/content").and_then(Value::as_str).ok_or(LlmError::Malformed)?;
    validate(content).ok_or(LlmError::Invalid)
}

/// The model's answer as a note, or `None` when it is not one line of 2–8 words without quotes.
pub(crate) fn validate(answer: &str) -> Option<String> {
    const QUOTES: &[char] = &['"', '\'', '`', '“', '”', '‘', '’', '«', '»', '*'];
    let mut note = answer.trim();
    if note.contains('\n') {
        return None;
    }
    note = note.trim_start_matches(['-', '•', ' ']);
    // "Note: Fix SSO redirect" — a short label before a colon is not part of the note.
    const LABELS: &[&str] = &[
        "note",
        "summary",
        "time entry",
        "harvest note",
        "entry",
        "answer",
        "résumé",
        "notiz",
        "nota",
        "notitie",
    ];
    if let Some((label, rest)) = note.split_once(':') {
        let label = label.trim().trim_matches(QUOTES).to_lowercase();
        if LABELS.contains(&label.as_str()) && !rest.trim().is_empty() {
            note = rest;
        }
    }
    let mut note = note.trim();
    // Twice: `"Fix it".` and `"Fix it."` are both a quoted note with a full stop.
    for _ in 0..2 {
        note = note.trim_matches(QUOTES).trim();
        note = note.trim_end_matches(['.', '!', '?', ';', ':', ',', '…']).trim();
    }
    let words = note.split_whitespace().count();
    let quoted = note.contains(['"', '`', '“', '”', '«', '»']);
    ((2..=8).contains(&words) && !quoted).then(|| note.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_and_a_full_endpoint_reach_the_same_endpoint() {
        assert_eq!(endpoint("http://127.0.0.1:11434/v1/"), "http://127.0.0.1:11434/v1/chat/completions");
        assert_eq!(endpoint("https://x.test/v1/chat/completions"), "https://x.test/v1/chat/completions");
    }

    #[test]
    fn quotes_labels_and_trailing_punctuation_are_cleaned_from_an_answer() {
        assert_eq!(validate("\"Fix SSO login redirect.\"").as_deref(), Some("Fix SSO login redirect"));
        assert_eq!(validate("Note: `Answer invoice question`").as_deref(), Some("Answer invoice question"));
    }

    #[test]
    fn answers_that_are_not_short_notes_are_refused() {
        assert_eq!(validate("Fix"), None, "one word is not a note");
        assert_eq!(validate("Fix it\nThen deploy"), None, "two lines are not a note");
        assert_eq!(validate("Fix the \"SSO\" redirect"), None, "quotes inside are refused");
        assert_eq!(validate(&"word ".repeat(30)), None, "thirty words are too many");
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("ééé", 2), "éé", "never in the middle of a character");
    }
}
