//! `tickettime summarize`: the ✦ note for a reply or note, from `--text`,
//! `--file` or standard input. The summarizing itself lives in
//! [`crate::summarize`]; this module only reads the input and prints.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::summarize::{self, LlmConfig, Source};

/// Prints the note for the given text (`--text`), file (`--file`, `-` for standard input) or standard
/// input. Uses the model configured by `TICKETTIME_LLM_*` when there is one, the local summarizer
/// otherwise. With `json`: `{"note", "source", "fallback_reason"?}`.
///
/// Errors when the file cannot be read or the input is blank ("nothing to summarize").
pub async fn run(text: Option<String>, file: Option<PathBuf>, json: bool) -> anyhow::Result<()> {
    let input = read_input(text, file.as_deref(), std::io::stdin().lock())?;
    let llm = LlmConfig::from_env();
    let note = summarize::summarize(&input, llm.as_ref()).await;
    if json {
        super::output::json(&note)?;
    } else {
        println!("{}", note.text);
        if let (Some(reason), Source::Local) = (&note.fallback_reason, note.source) {
            eprintln!("note written by the local summarizer: {reason}");
        }
    }
    Ok(())
}

/// The text to summarize: `text`, else the file (`-` is standard input), else `stdin`.
fn read_input(text: Option<String>, file: Option<&Path>, mut stdin: impl Read) -> anyhow::Result<String> {
    let input = match (text, file) {
        (Some(text), _) => text,
        (None, Some(path)) if path != Path::new("-") => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        (None, _) => {
            let mut input = String::new();
            stdin.read_to_string(&mut input).context("cannot read standard input")?;
            input
        }
    };
    if input.trim().is_empty() {
        bail!("nothing to summarize: give --text, --file or text on standard input");
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wins_over_standard_input() {
        let input =
            read_input(Some("Fixed it".to_owned()), None, "ignored".as_bytes()).expect("text is input");
        assert_eq!(input, "Fixed it", "--text is what the user asked to summarize");
    }

    #[test]
    fn a_dash_file_and_no_file_both_read_standard_input() {
        for file in [Some(Path::new("-")), None] {
            let input = read_input(None, file, "from stdin".as_bytes()).expect("stdin is input");
            assert_eq!(input, "from stdin", "pipes work: {file:?}");
        }
    }

    #[test]
    fn a_file_is_read() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("reply.txt");
        std::fs::write(&path, "Reset the VPN token").expect("the file is written");
        let input = read_input(None, Some(&path), "".as_bytes()).expect("the file is input");
        assert_eq!(input, "Reset the VPN token", "--file reads the file");
    }

    #[test]
    fn blank_input_is_refused_with_a_clear_error() {
        let error = read_input(None, None, "  \n".as_bytes()).expect_err("blank input is an error");
        assert!(error.to_string().contains("nothing to summarize"), "the error says why: {error}");
    }

    #[test]
    fn a_missing_file_names_the_file() {
        let error = read_input(None, Some(Path::new("/nonexistent/reply.txt")), "".as_bytes())
            .expect_err("no such file");
        assert!(error.to_string().contains("/nonexistent/reply.txt"), "the error names the file: {error}");
    }
}
