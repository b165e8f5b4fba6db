//! From what a help desk stores to the sentences worth summarizing.
//!
//! A reply arrives as plain text, markdown or HTML email, with greetings,
//! quoted history, signatures, thanks and ticket boilerplate around the one
//! or two sentences that say what was done. Everything here is pure string
//! work: HTML to text, then cutting and dropping lines, then sentences. What
//! a sentence *means* is `local.rs`'s business.

use super::lexicon::{self, opens_with};

/// The message as plain text: tags dropped (quoted HTML history with them),
/// entities decoded, line breaks where the HTML had blocks.
pub(crate) fn to_text(input: &str) -> String {
    let text = input.replace("\r\n", "\n").replace('\r', "\n");
    if looks_like_html(&text) {
        decode_entities(&strip_html(&text))
    } else {
        decode_entities(&text)
    }
}

/// The sentences of the message's own text: no quoted history, signature,
/// greeting, boilerplate, thanks or pleasantries; markdown markers removed.
pub(crate) fn sentences(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in paragraphs(&body_lines(&to_text(input))) {
        for sentence in split_sentences(&paragraph) {
            let lower = sentence.to_lowercase();
            if SENTENCE_BOILERPLATE.iter().any(|p| lower.contains(p)) {
                continue;
            }
            if let Some(kept) = without_pleasantry(&sentence) {
                out.push(kept);
            }
        }
    }
    out
}

/// Sentences a help desk adds to every update, wherever they stand.
const SENTENCE_BOILERPLATE: &[&str] =
    &["your request has been updated", "ticket has been updated", "request has been received"];

/// The message's own text as one string (for a language model), pleasantries included.
pub(crate) fn plain(input: &str) -> String {
    paragraphs(&body_lines(&to_text(input))).join("\n")
}

fn looks_like_html(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["<p", "<br", "<div", "<html", "<body", "<span", "<blockquote", "<table", "<li", "<b>", "<a ", "<strong"]
        .iter()
        .any(|tag| lower.contains(tag))
}

/// Tags whose content is never text.
const SKIPPED_ELEMENTS: &[&str] = &["style", "script", "head", "title", "blockquote"];
/// Markers of a mail client's quoted history: everything from there on is someone else's message.
const QUOTE_CONTAINERS: &[&str] = &[
    "gmail_quote",
    "moz-cite-prefix",
    "yahoo_quoted",
    "divrplyfwdmsg",
    "appendonsend",
    "outlookmessageheader",
];
const BLOCK_TAGS: &[&str] =
    &["br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "hr", "pre"];

fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut skipping: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        if skipping.is_empty() {
            out.push_str(&rest[..open]);
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            // A lone '<' is text ("a < b"), not a tag.
            if skipping.is_empty() {
                out.push('<');
            }
            rest = after;
            continue;
        };
        let tag = after[..close].to_lowercase();
        rest = &after[close + 1..];
        let closing = tag.starts_with('/');
        let name: String =
            tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if !closing && QUOTE_CONTAINERS.iter().any(|marker| tag.contains(marker)) {
            return out;
        }
        if SKIPPED_ELEMENTS.contains(&name.as_str()) {
            if closing {
                if let Some(at) = skipping.iter().rposition(|open| *open == name) {
                    skipping.truncate(at);
                }
            } else if !tag.ends_with('/') {
                skipping.push(name);
            }
            continue;
        }
        if skipping.is_empty() {
            if BLOCK_TAGS.contains(&name.as_str()) {
                out.push('\n');
            } else if name == "td" || name == "th" {
                out.push(' ');
            }
        }
    }
    if skipping.is_empty() {
        out.push_str(rest);
    }
    out
}

fn decode_entities(text: &str) -> String {
    const NAMED: &[(&str, &str)] = &[
        ("amp", "&"),
        ("lt", "<"),
        ("gt", ">"),
        ("quot", "\""),
        ("apos", "'"),
        ("nbsp", " "),
        ("rsquo", "'"),
        ("lsquo", "'"),
        ("rdquo", "\""),
        ("ldquo", "\""),
        ("ndash", "–"),
        ("mdash", "—"),
        ("hellip", "…"),
        ("eacute", "é"),
        ("egrave", "è"),
        ("ecirc", "ê"),
        ("agrave", "à"),
        ("acirc", "â"),
        ("ccedil", "ç"),
        ("ocirc", "ô"),
        ("uuml", "ü"),
        ("ouml", "ö"),
        ("auml", "ä"),
        ("Uuml", "Ü"),
        ("Ouml", "Ö"),
        ("Auml", "Ä"),
        ("szlig", "ß"),
        ("ntilde", "ñ"),
        ("aacute", "á"),
        ("iacute", "í"),
        ("oacute", "ó"),
        ("uacute", "ú"),
        ("euro", "€"),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find(';').filter(|end| *end <= 10);
        let decoded = end.and_then(|end| {
            let name = &after[..end];
            let numeric = name.strip_prefix('#').and_then(|n| match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => n.parse().ok(),
            });
            match numeric {
                Some(code) => char::from_u32(code).map(|c| if c == '\u{a0}' { ' ' } else { c }.to_string()),
                None => NAMED.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()),
            }
            .map(|text| (text, end))
        });
        match decoded {
            Some((text, end)) => {
                out.push_str(&text);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace('\u{a0}', " ")
}

/// A line of the message's own text, after markdown markers are gone.
struct Line {
    text: String,
    /// A list item: a sentence of its own even without punctuation.
    item: bool,
}

fn is_quote_header(lines: &[&str], at: usize) -> bool {
    let lower = lines[at].trim().to_lowercase();
    let next = lines.get(at + 1).map(|l| l.trim().to_lowercase()).unwrap_or_default();
    let ends_wrote = |l: &str| {
        ["wrote:", "a écrit :", "a écrit:", "schrieb:", "escribió:", "schreef:"]
            .iter()
            .any(|end| l.ends_with(end))
    };
    let opens_header = ["on ", "le ", "am ", "el ", "op "].iter().any(|start| lower.starts_with(start));
    if ends_wrote(&lower) || (opens_header && ends_wrote(&next) && lower.len() < 120) {
        return true;
    }
    if lower.contains("original message")
        || lower.contains("forwarded message")
        || lower.contains("ursprüngliche nachricht")
        || lower.contains("message d'origine")
        || lower.contains("mensaje original")
        || lower.contains("oorspronkelijk bericht")
        || (lower.len() >= 10 && lower.chars().all(|c| c == '_'))
    {
        return true;
    }
    let header = |l: &str, fields: &[&str]| fields.iter().any(|f| l.starts_with(f));
    if header(&lower, &["from:", "von:", "de :", "de:", "van:"]) {
        let fields = [
            "sent:",
            "date:",
            "to:",
            "subject:",
            "gesendet:",
            "an:",
            "envoyé",
            "à :",
            "enviado:",
            "verzonden:",
        ];
        return lines[at + 1..].iter().take(4).any(|l| header(&l.trim().to_lowercase(), &fields));
    }
    false
}

fn is_signature_start(lower: &str) -> bool {
    let trimmed = lower.trim_end();
    if ["--", "—", "__", "-- "].contains(&trimmed) || lower == "-- " {
        return true;
    }
    let bare = trimmed.trim_end_matches([',', '.', '!', ' ']);
    lexicon::ALL.iter().flat_map(|lex| lex.signoffs.iter()).any(|phrase| {
        if !opens_with(bare, phrase) {
            return false;
        }
        let device = ["sent from", "get outlook", "envoyé de", "enviado desde", "von meinem"];
        // "Thanks, Bob" and "Best regards, Tom Smith" sign off; "Thanks, I fixed it" does not.
        let rest = bare[phrase.len()..].trim_start_matches([',', ' ', '!', '-']);
        device.iter().any(|d| phrase.starts_with(d))
            || (rest.split_whitespace().count() <= 2 && !trimmed.ends_with(['.', '?', ':']))
    })
}

fn is_boilerplate(lower: &str) -> bool {
    const PHRASES: &[&str] = &[
        "automated message",
        "automatically generated",
        "do not reply",
        "don't reply",
        "reply above this line",
        "above this line",
        "below this line",
        "message automatique",
        "automatisch generiert",
        "automatisch erstellt",
        "mensaje automático",
        "automatisch gegenereerd",
        "view this ticket",
        "to unsubscribe",
    ];
    if PHRASES.iter().any(|p| lower.contains(p)) {
        return true;
    }
    if ["subject:", "re:", "fw:", "fwd:", "aw:", "wg:", "tr:", "betreff:", "objet :", "objet:", "asunto:"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return true;
    }
    // "Ticket #4521" or "Ticket 4521 – Status: open" on a line of its own.
    let words: Vec<&str> = lower.split_whitespace().collect();
    words.first().is_some_and(|w| *w == "ticket" || w.starts_with("[ticket"))
        && words.get(1).is_some_and(|w| w.trim_start_matches('#').starts_with(|c: char| c.is_ascii_digit()))
        && words.len() <= 6
}

/// The text after a greeting at the start of `line`, or `None` when the line is only a greeting.
fn without_greeting(line: &str) -> Option<String> {
    let lower = line.to_lowercase();
    let greeting = lexicon::ALL.iter().flat_map(|lex| lex.greetings.iter()).find(|g| opens_with(&lower, g));
    let Some(greeting) = greeting else {
        return Some(line.to_owned());
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() <= 4 && !line.trim_end().ends_with(['.', '?']) {
        return None;
    }
    // "Hi John, I fixed …": the greeting ends at the first comma, '!' or ':' within a few words.
    let mut seen = 0;
    for (at, c) in line.char_indices() {
        if c.is_whitespace() {
            seen += 1;
        }
        if seen > 5 {
            break;
        }
        if matches!(c, ',' | '!' | ':') {
            let rest = line[at + c.len_utf8()..].trim();
            return (!rest.is_empty()).then(|| rest.to_owned());
        }
    }
    let rest = line.get(greeting.len()..).unwrap_or_default().trim();
    (!rest.is_empty()).then(|| rest.to_owned())
}

fn strip_markdown(line: &str) -> (String, bool) {
    let mut text = line.trim();
    let mut item = false;
    while let Some(rest) = text.strip_prefix('#') {
        text = rest;
    }
    text = text.trim_start();
    for bullet in ["- [ ] ", "- [x] ", "- ", "* ", "+ ", "• ", "– "] {
        if let Some(rest) = text.strip_prefix(bullet) {
            text = rest;
            item = true;
            break;
        }
    }
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 3 {
        if let Some(rest) = text[digits..].strip_prefix(". ").or_else(|| text[digits..].strip_prefix(") ")) {
            text = rest;
            item = true;
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Links keep their text; images go.
    while let Some(open) = rest.find('[') {
        let (before, after) = rest.split_at(open);
        let link = after
            .find(']')
            .filter(|mid| after[mid + 1..].starts_with('('))
            .and_then(|mid| after[mid..].find(')').map(|end| (mid, mid + end)));
        match link {
            Some((mid, end)) => {
                let image = before.ends_with('!');
                out.push_str(if image { &before[..before.len() - 1] } else { before });
                if !image {
                    out.push_str(&after[1..mid]);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(before);
                out.push('[');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    let out = out.replace("**", "").replace("__", " ").replace("~~", "").replace(['`', '*'], "");
    let words: Vec<&str> = out
        .split_whitespace()
        .filter(|w| {
            let w = w.to_lowercase();
            let link = ["http://", "https://", "www.", "<http"].iter().any(|p| w.starts_with(p));
            let email = w.contains('@') && w.contains('.');
            !link && !email
        })
        .collect();
    (remove_ticket_references(&words.join(" ")), item)
}

/// Drops "[Ticket: 4521]", "[#4521]" and "Ticket #4521" from a line: the entry is linked to the ticket already.
fn remove_ticket_references(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']') else { break };
        let inner = rest[open + 1..open + close].to_lowercase();
        out.push_str(&rest[..open]);
        if !(inner.contains("ticket") || inner.starts_with('#') || inner.starts_with("ref")) {
            out.push_str(&rest[open..=open + close]);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let words: Vec<&str> = out.split_whitespace().collect();
    let mut kept = Vec::with_capacity(words.len());
    let mut skip_next = false;
    for (i, word) in words.iter().enumerate() {
        if skip_next {
            skip_next = false;
            continue;
        }
        let number_follows = words
            .get(i + 1)
            .is_some_and(|next| next.trim_start_matches('#').starts_with(|c: char| c.is_ascii_digit()));
        if word.eq_ignore_ascii_case("ticket") && number_follows {
            skip_next = true;
            continue;
        }
        kept.push(*word);
    }
    kept.join(" ")
}

fn body_lines(text: &str) -> Vec<Line> {
    let raw: Vec<&str> = text.lines().collect();
    let mut lines = Vec::new();
    let mut in_fence = false;
    for (at, line) in raw.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if is_quote_header(&raw, at) {
            break;
        }
        let lower = trimmed.to_lowercase();
        if is_signature_start(line.trim_start()) || is_signature_start(&lower) {
            break;
        }
        if trimmed.starts_with('>') || is_boilerplate(&lower) {
            continue;
        }
        if trimmed.is_empty() {
            lines.push(Line { text: String::new(), item: false });
            continue;
        }
        let Some(greeted) = without_greeting(trimmed) else { continue };
        let (text, item) = strip_markdown(&greeted);
        if !text.is_empty() {
            lines.push(Line { text, item: item || in_fence });
        }
    }
    lines
}

fn paragraphs(lines: &[Line]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, out: &mut Vec<String>| {
        if !current.trim().is_empty() {
            out.push(std::mem::take(current).trim().to_owned());
        }
        current.clear();
    };
    for line in lines {
        if line.text.is_empty() || line.item {
            flush(&mut current, &mut out);
        }
        if !line.text.is_empty() {
            current.push(' ');
            current.push_str(&line.text);
        }
        if line.item {
            flush(&mut current, &mut out);
        }
    }
    flush(&mut current, &mut out);
    out
}

fn split_sentences(paragraph: &str) -> Vec<String> {
    const ABBREVIATIONS: &[&str] =
        &["e.g.", "i.e.", "etc.", "mr.", "mrs.", "ms.", "dr.", "vs.", "approx.", "z.b.", "ca."];
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for word in paragraph.split_whitespace() {
        current.push(word);
        let ends =
            word.ends_with(['.', '!', '?', '…']) && !ABBREVIATIONS.contains(&word.to_lowercase().as_str());
        if ends {
            out.push(current.join(" "));
            current.clear();
        }
    }
    if !current.is_empty() {
        out.push(current.join(" "));
    }
    out
}

/// The sentence without a leading pleasantry, or `None` when nothing else is in it.
fn without_pleasantry(sentence: &str) -> Option<String> {
    let lower = sentence.to_lowercase();
    let pleasant = lexicon::ALL.iter().flat_map(|lex| lex.pleasantries.iter()).any(|p| opens_with(&lower, p));
    if !pleasant {
        return Some(sentence.to_owned());
    }
    // "Thanks for your patience, the SSO fix is live now." keeps what follows the comma.
    let rest = sentence.split_once(", ").map(|(_, rest)| rest.trim())?;
    (rest.split_whitespace().count() >= 3).then(|| rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_quoted_history_and_tags_are_dropped() {
        let html = "<div dir=\"ltr\"><p>Hi Anna,</p><p>I fixed the <b>SSO</b> redirect.</p>\
                    <div class=\"gmail_quote\">On Mon, Anna wrote:<blockquote>It is broken</blockquote></div></div>";
        assert_eq!(
            sentences(html),
            vec!["I fixed the SSO redirect."],
            "only the agent's own sentence is left"
        );
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            to_text("Tom &amp; Jerry&nbsp;&#233;t&eacute;"),
            "Tom & Jerry été",
            "named and numeric entities"
        );
    }

    #[test]
    fn wrapped_reply_headers_cut_the_quoted_history() {
        let text = "Deployed the fix.\n\nOn Mon, 5 Jan 2026 at 10:00, Anna Smith <anna@example.com>\nwrote:\n> broken";
        assert_eq!(
            sentences(text),
            vec!["Deployed the fix."],
            "the header and quote are someone else's text"
        );
    }

    #[test]
    fn signatures_greetings_and_thanks_are_dropped() {
        let text = "Hello team,\n\nThanks for your patience.\nI reset the VPN token.\n\nBest regards,\nTom\nACME Support";
        assert_eq!(sentences(text), vec!["I reset the VPN token."], "greeting, thanks and signature go");
    }

    #[test]
    fn a_greeting_on_the_same_line_as_the_work_is_stripped() {
        assert_eq!(sentences("Hi John, I restarted the sync job."), vec!["I restarted the sync job."]);
    }

    #[test]
    fn markdown_links_keep_their_text_and_ticket_references_go() {
        assert_eq!(
            sentences("[Ticket: 4521] Updated the [billing page](https://x.test/b) for **Acme**"),
            vec!["Updated the billing page for Acme"],
            "link text stays, the URL and ticket tag go"
        );
    }
}
