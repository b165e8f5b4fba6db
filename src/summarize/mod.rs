//! The ✦ note generator: a 2–8 word Harvest note from a reply or note.
//!
//! [`summarize_local`] is the default: offline, deterministic rules that
//! strip quoted history, signatures, greetings and boilerplate, find what was
//! done and to what, and write it in the imperative ("Fix SSO login
//! redirect"). [`summarize`] first asks a configured OpenAI-compatible
//! model ([`LlmConfig`]) and answers with the local note whenever the model
//! is slow, failing or off-format; the [`Note`] says which one wrote it.
//! Nothing is sent anywhere unless a model is configured. The desktop panel
//! and `tickettime summarize` both call [`summarize`]; settings storage and
//! UI live with them, not here.

mod clean;
mod lexicon;
mod llm;
mod local;

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Environment variable with the model server's URL (a base such as `http://127.0.0.1:11434/v1`
/// or the full `/chat/completions` endpoint). Without it no model is used.
pub const LLM_URL_ENV: &str = "TICKETTIME_LLM_URL";
/// Environment variable with the model name (default [`DEFAULT_MODEL`]).
pub const LLM_MODEL_ENV: &str = "TICKETTIME_LLM_MODEL";
/// Environment variable with the API key, sent as `Authorization: Bearer …` when set.
pub const LLM_KEY_ENV: &str = "TICKETTIME_LLM_KEY";
/// The model asked for when none is configured (a small one Ollama serves).
pub const DEFAULT_MODEL: &str = "llama3.2";
/// How long the model may take before the local summarizer answers instead.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(4);

/// The languages the local summarizer writes notes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Fr,
    De,
    Es,
    Nl,
}

/// Which summarizer wrote a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Source {
    /// The offline rules in this module.
    Local,
    /// The configured language model.
    Llm,
}

/// A generated time-entry note. Serialised as `{"note", "source", "fallback_reason"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Note {
    /// 2–8 words, one line, no trailing punctuation.
    #[serde(rename = "note")]
    pub text: String,
    pub source: Source,
    /// Why the configured model's note was not used (`None` when it was, or when none is configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}

/// Where to ask a language model for notes: any OpenAI-compatible chat-completions server.
#[derive(Clone)]
pub struct LlmConfig {
    /// A base URL (`http://127.0.0.1:11434/v1`) or the full `/chat/completions` endpoint.
    pub url: String,
    pub model: String,
    /// Sent as a bearer token; never printed (`Debug` redacts it).
    pub key: Option<SecretString>,
    /// How long to wait for the answer before the local summarizer answers instead.
    pub timeout: Duration,
}

impl LlmConfig {
    /// A configuration with the default model and timeout and no key.
    pub fn new(url: impl Into<String>) -> Self {
        LlmConfig { url: url.into(), model: DEFAULT_MODEL.to_owned(), key: None, timeout: DEFAULT_TIMEOUT }
    }

    /// From `TICKETTIME_LLM_URL`, `TICKETTIME_LLM_MODEL` and `TICKETTIME_LLM_KEY`; `None` unless the URL is set.
    pub fn from_env() -> Option<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`LlmConfig::from_env`], reading variables through `lookup` (blank values count as unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut config = LlmConfig::new(get(LLM_URL_ENV)?);
        if let Some(model) = get(LLM_MODEL_ENV) {
            config.model = model;
        }
        config.key = get(LLM_KEY_ENV).map(SecretString::from);
        Some(config)
    }
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The note the offline rules write for `text` (plain text, markdown or HTML email).
///
/// Always 2–8 words on one line with no trailing punctuation, whatever the input; a message with
/// nothing to summarize gets a neutral note such as "Review ticket". Deterministic.
pub fn summarize_local(text: &str) -> String {
    local::summarize(text)
}

/// The language the local summarizer takes `text` to be in (English when unsure).
pub fn language_of(text: &str) -> Language {
    local::detect(&clean::sentences(text).join(" "))
}

/// The language whose action verb opens (or, in German and Dutch, closes) `note`, if any.
pub fn action_language(note: &str) -> Option<Language> {
    let words: Vec<&str> = note.split_whitespace().collect();
    // German and Dutch first: their verb closes the note, so an English-looking first word
    // ("Export nach DATEV … untersuchen") must not decide.
    let order = [&lexicon::DE, &lexicon::NL, &lexicon::EN, &lexicon::FR, &lexicon::ES];
    order.iter().find_map(|lex| {
        // The lemma's head word decides: "Follow up on" also opens "Follow up with the client".
        let found = lex.verbs.iter().any(|verb| {
            let lemma: Vec<&str> = verb.lemma.split(' ').collect();
            if lex.verb_last {
                words.len() >= lemma.len() && words[words.len() - lemma.len()..] == lemma[..]
            } else {
                words.first().zip(lemma.first()).is_some_and(|(w, l)| w.eq_ignore_ascii_case(l))
            }
        });
        found.then_some(lex.language)
    })
}

/// The note for `text`: from the model when `llm` is configured and answers well in time, from the
/// local summarizer otherwise (with the reason when a model was configured). Never fails.
pub async fn summarize(text: &str, llm: Option<&LlmConfig>) -> Note {
    let Some(config) = llm else {
        return Note { text: summarize_local(text), source: Source::Local, fallback_reason: None };
    };
    let cleaned = clean::plain(text);
    let sent = if cleaned.trim().is_empty() { text } else { &cleaned };
    match llm::ask(config, sent).await {
        Ok(note) => Note { text: note, source: Source::Llm, fallback_reason: None },
        Err(reason) => Note {
            text: summarize_local(text),
            source: Source::Local,
            fallback_reason: Some(reason.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_url_means_no_model() {
        assert!(LlmConfig::from_lookup(|_| None).is_none(), "the model is opt-in");
        assert!(LlmConfig::from_lookup(|_| Some("  ".to_owned())).is_none(), "a blank URL is no URL");
    }

    #[test]
    fn the_config_reads_model_and_key_and_redacts_the_key() {
        let config = LlmConfig::from_lookup(|name| match name {
            LLM_URL_ENV => Some("http://127.0.0.1:11434/v1".to_owned()),
            LLM_KEY_ENV => Some("sk-secret".to_owned()),
            _ => None,
        })
        .expect("a URL configures a model");
        assert_eq!(config.model, DEFAULT_MODEL, "the model has a default");
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("sk-secret") && debug.contains("[redacted]"),
            "keys never reach logs: {debug}"
        );
    }

    #[test]
    fn a_note_serialises_with_the_cli_field_names() {
        let note = Note { text: "Fix SSO redirect".to_owned(), source: Source::Llm, fallback_reason: None };
        let json = serde_json::to_value(&note).expect("a note serialises");
        assert_eq!(json, serde_json::json!({ "note": "Fix SSO redirect", "source": "llm" }));
    }

    #[test]
    fn action_language_finds_the_verb_at_the_right_end() {
        assert_eq!(action_language("Fix SSO login redirect"), Some(Language::En));
        assert_eq!(action_language("Corriger redirection SSO"), Some(Language::Fr));
        assert_eq!(action_language("SSO-Weiterleitung korrigieren"), Some(Language::De));
        assert_eq!(action_language("SSO login redirect"), None);
    }
}
