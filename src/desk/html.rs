//! HTML bodies from a help desk as plain text: no markup and nothing of a
//! script or a style survives; paragraphs, line breaks and list items
//! become line breaks; entities are decoded. A hand-written pass over the
//! text (a desk's thread HTML is simple), not a browser engine.

/// Elements whose whole content is dropped, not only their tags.
const DROPPED: [&str; 5] = ["script", "style", "head", "template", "noscript"];

/// Elements that end a line.
const BLOCKS: [&str; 17] = [
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "table",
    "hr",
];

/// `html` as plain text.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        push_text(&mut out, &rest[..open]);
        rest = &rest[open..];
        let Some(tag) = Tag::parse(rest) else {
            // A `<` that starts no tag is text.
            out.push('<');
            rest = &rest[1..];
            continue;
        };
        rest = &rest[tag.len..];
        if !tag.closing && DROPPED.contains(&tag.name.as_str()) {
            rest = skip_past_close(rest, &tag.name);
            continue;
        }
        if BLOCKS.contains(&tag.name.as_str()) {
            if tag.name == "li" && !tag.closing {
                newline(&mut out);
                out.push_str("- ");
            } else if tag.name == "p" || tag.name == "div" || tag.name.starts_with('h') {
                newline(&mut out);
                if tag.closing {
                    out.push('\n');
                }
            } else {
                out.push('\n');
            }
        }
    }
    push_text(&mut out, rest);
    tidy(&out)
}

struct Tag {
    name: String,
    closing: bool,
    /// Bytes from `<` to just past `>`.
    len: usize,
}

impl Tag {
    /// The tag (or comment, or declaration) at the start of `text`.
    fn parse(text: &str) -> Option<Tag> {
        if let Some(body) = text.strip_prefix("<!--") {
            let end = body.find("-->").map_or(text.len(), |e| 4 + e + 3);
            return Some(Tag { name: "!--".into(), closing: false, len: end });
        }
        let after = &text[1..];
        let (closing, after) = match after.strip_prefix('/') {
            Some(a) => (true, a),
            None => (false, after),
        };
        let first = after.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '!' || first == '?') {
            return None;
        }
        let end = find_tag_end(text)?;
        let name: String =
            after.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        Some(Tag { name, closing, len: end + 1 })
    }
}

/// The `>` that ends the tag at the start of `text`, skipping quoted attribute values.
fn find_tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

/// The text after `</name>` (case-insensitive); nothing when it never closes.
fn skip_past_close<'a>(text: &'a str, name: &str) -> &'a str {
    let lower = text.to_ascii_lowercase();
    let close = format!("</{name}");
    match lower.find(&close) {
        Some(at) => match text[at..].find('>') {
            Some(end) => &text[at + end + 1..],
            None => "",
        },
        None => "",
    }
}

/// Appends text between tags: whitespace runs (HTML's, line breaks included) become one space.
fn push_text(out: &mut String, text: &str) {
    let decoded = decode_entities(text);
    for c in decoded.chars() {
        if c == '\u{a0}' {
            out.push(' ');
        } else if c.is_whitespace() {
            if !out.ends_with([' ', '\n']) && !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

fn newline(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Trailing spaces off every line, at most one blank line in a row, no blank ends.
fn tidy(text: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in text.split('\n').map(str::trim) {
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// Decodes `&amp;`, `&#39;`, `&#x2013;` and the named entities desks write.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest[1..].find(';').map(|e| e + 1).filter(|e| *e <= 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        match entity(name) {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "euro" => '€',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "eacute" => 'é',
        "egrave" => 'è',
        "bull" => '•',
        "middot" => '·',
        "times" => '×',
        "deg" => '°',
        _ => return None,
    })
}

/// Text as HTML that shows it as written (for what Tickettime writes into a desk).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br />"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_breaks_become_lines_and_scripts_vanish() {
        let html = "<p>Hi team,</p><p>since the relaunch the checkout fails &amp; the cart empties.<br />Steps: add &gt; pay.</p><script>alert(\"xss\")</script><p>Thanks,<br>Olivia</p>";
        assert_eq!(
            to_text(html),
            "Hi team,\n\nsince the relaunch the checkout fails & the cart empties.\nSteps: add > pay.\n\nThanks,\nOlivia"
        );
    }

    #[test]
    fn a_script_with_attributes_and_a_style_take_their_content_with_them() {
        let html = "<p>a</p><SCRIPT type=\"text/javascript\">document.location=\"https://evil.example/\"</SCRIPT><style>p{}</style>b";
        assert_eq!(to_text(html), "a\n\nb");
    }

    #[test]
    fn entities_decode_and_stray_ampersands_and_angles_stay() {
        assert_eq!(
            to_text("fix &ndash; done &#8211; &#x2013; &quot;x&quot; AT&T a < b"),
            "fix – done – – \"x\" AT&T a < b"
        );
        assert_eq!(decode_entities("&bogus; &amp"), "&bogus; &amp");
    }

    #[test]
    fn list_items_and_comments() {
        assert_eq!(to_text("<ul><li>one</li><li>two</li></ul><!-- hidden -->end"), "- one\n- two\n\nend");
    }

    #[test]
    fn quoted_angle_brackets_inside_attributes_do_not_end_the_tag() {
        assert_eq!(to_text("<a title=\"a > b\" href='x'>link</a> text"), "link text");
    }

    #[test]
    fn escape_round_trips_through_to_text() {
        let text = "0.5 h <logged> & \"noted\"\nsecond line";
        assert_eq!(to_text(&escape(text)), text);
    }
}
