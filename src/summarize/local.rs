//! The local summarizer's rules: which sentence says what was done, its
//! action, its object, and the 2–8 word note built from them.
//!
//! Every sentence left by `clean.rs` proposes candidates — an action done
//! ("I fixed …"), asked for ("could you reset …"), a question, a problem
//! report, or only a topic — each scored; the best one becomes the note.
//! Scores and ties depend only on the text (no hashing, no randomness), so
//! the same message always gives the same note.

use super::clean;
use super::lexicon::{self, Lexicon, Verb};
use super::Language;

/// A word of a sentence.
#[derive(Debug, Clone)]
struct Token {
    /// As written, without surrounding punctuation or quotes.
    raw: String,
    lower: String,
    /// Punctuation after the word ends a clause (`,` `;` `:` `)`).
    breaks_after: bool,
}

fn tokens(sentence: &str) -> Vec<Token> {
    const EDGE: &[char] = &[
        '.', ',', ';', ':', '!', '?', '"', '\'', '“', '”', '‘', '’', '«', '»', '(', ')', '[', ']', '{', '}',
        '<', '>', '…', '¡', '¿',
    ];
    sentence
        .split_whitespace()
        .map(|word| {
            let raw = word.trim_matches(EDGE);
            let raw = raw.strip_suffix("'s").filter(|r| is_key_word(r)).unwrap_or(raw);
            if raw.is_empty() || raw.chars().all(|c| matches!(c, '-' | '–' | '—' | '/' | '&' | '+' | '='))
            {
                // A dash between words ends a clause ("fixed the export – it works now").
                return Token { raw: String::new(), lower: String::new(), breaks_after: true };
            }
            let breaks_after = word.trim_end_matches(['"', '\'', '”', '’']).ends_with([',', ';', ':', ')']);
            Token { raw: raw.to_owned(), lower: raw.to_lowercase(), breaks_after }
        })
        .collect()
}

/// Words that stay exactly as written: product names in capitals, CamelCase and error codes.
fn is_key_word(word: &str) -> bool {
    const NOT_PRODUCTS: &[&str] = &[
        "OK", "ASAP", "FYI", "PS", "CC", "AM", "PM", "EOD", "BTW", "TIA", "NB", "RE", "FW", "FWD", "AW",
        "TBD",
    ];
    let lower = word.to_lowercase();
    // "2pm", "10am", "5-10": times and ranges, not codes.
    let time = lower.ends_with("am") || lower.ends_with("pm") || lower.ends_with('h');
    if time && lower.trim_end_matches(['a', 'p', 'm', 'h']).chars().all(|c| c.is_ascii_digit() || c == ':') {
        return false;
    }
    let digits = word.chars().filter(char::is_ascii_digit).count();
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    if digits > 0 && letters > 0 {
        return true;
    }
    word.split(['-', '/']).any(|part| {
        let letters = part.chars().filter(|c| c.is_alphabetic()).count();
        let digits = part.chars().filter(char::is_ascii_digit).count();
        let upper = part.chars().filter(|c| c.is_uppercase()).count();
        let code = (digits > 0 && letters > 0)
            || part.starts_with("0x")
            || (part.contains('_') && upper > 0 && part.chars().all(|c| c.is_alphanumeric() || c == '_'));
        let all_caps = letters >= 2 && upper == letters && !NOT_PRODUCTS.contains(&part);
        let camel = letters >= 3 && part.chars().skip(1).any(char::is_uppercase) && upper < letters;
        code || all_caps || camel
    })
}

const CALENDAR: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "i",
];

/// Whether the token at `at` is a product name or code to keep. `German` capitalises every noun, so
/// there a capital letter alone says nothing.
fn is_key(tokens: &[Token], at: usize, lex: &Lexicon) -> bool {
    let token = &tokens[at];
    if token.raw.is_empty() {
        return false;
    }
    if is_key_word(&token.raw) {
        return true;
    }
    // "HTTP 502", "error 500": the status code is the point.
    let status = token.raw.len() == 3 && token.raw.chars().all(|c| c.is_ascii_digit());
    if status
        && at > 0
        && ["http", "error", "status", "code", "erreur", "fehler"].contains(&tokens[at - 1].lower.as_str())
    {
        return true;
    }
    let capitalised = token.raw.chars().next().is_some_and(char::is_uppercase)
        && token.raw.chars().skip(1).all(|c| !c.is_uppercase());
    capitalised
        && at > 0
        && lex.language != Language::De
        && !tokens[at - 1].raw.is_empty()
        && !CALENDAR.contains(&token.lower.as_str())
        && !lexicon::ALL.iter().any(|l| l.stop.contains(&token.lower.as_str()))
        && !lexicon::NEVER_IN_NOTE.contains(&token.lower.as_str())
}

/// Where a verb form matches at `at`: the lemma, its weight and the index after the form.
fn verb_at(tokens: &[Token], at: usize, lex: &Lexicon) -> Option<(&'static Verb, usize)> {
    lex.verbs.iter().find_map(|verb| {
        verb.forms.split(' ').find_map(|form| {
            let parts: Vec<&str> = form.split('+').collect();
            let matches = parts
                .iter()
                .enumerate()
                .all(|(k, part)| tokens.get(at + k).is_some_and(|t| t.lower == *part));
            matches.then_some((verb, at + parts.len()))
        })
    })
}

fn phrase_at(tokens: &[Token], at: usize, phrase: &str) -> usize {
    let parts: Vec<&str> = phrase.split(['+', ' ']).collect();
    let matches =
        parts.iter().enumerate().all(|(k, part)| tokens.get(at + k).is_some_and(|t| t.lower == *part));
    if matches {
        parts.len()
    } else {
        0
    }
}

const FIRST_PERSON: &[&str] = &[
    "i", "we", "i've", "we've", "i'm", "we're", "i'll", "we'll", "i'd", "have", "just", "j'ai", "je", "nous",
    "avons", "ich", "wir", "habe", "haben", "he", "hemos", "yo", "ik", "heb", "hebben", "wij",
];
const PASSIVE: &[&str] =
    &["been", "was", "were", "is", "wurde", "wurden", "été", "sido", "fue", "werd", "is"];
const NEGATION: &[&str] = &[
    "not", "haven't", "hasn't", "didn't", "don't", "doesn't", "can't", "cannot", "won't", "never", "pas",
    "nicht", "niet", "no", "nunca",
];
const CONDITIONAL: &[&str] = &[
    "if", "whether", "unless", "when", "while", "after", "before", "si", "quand", "wenn", "falls", "als",
    "cuando", "wanneer",
];
/// Words before a verb form that make it a noun ("since the last update").
const DETERMINERS: &[&str] = &[
    "the", "a", "an", "this", "that", "your", "our", "my", "their", "last", "new", "latest", "recent",
    "next", "le", "la", "les", "un", "une", "der", "die", "das", "el", "het", "een",
];
/// Where a problem report's topic ends ("failed due to a full disk").
const PROBLEM_STOPS: &[&str] =
    &["due", "because", "since", "so", "and", "but", "after", "car", "weil", "porque", "omdat"];
/// Lemmas that read well followed by a preposition ("Call with Acme about …").
const TAKES_PREPOSITION: &[&str] = &["Call", "Meeting", "Demo", "Help", "Follow up on", "Discuss"];
/// A problem noun that says what kind of problem it is, unlike "fails" or "broken".
const PROBLEM_NOUNS: &[&str] = &[
    "error", "errors", "bug", "crash", "timeout", "timeouts", "outage", "failure", "erreur", "fehler", "fout",
];

/// The words kept from `tokens[from..to]` as an action's object: content words and key tokens,
/// prepositions only between kept words, filler ("the issue with") gone.
fn object_words(
    tokens: &[Token],
    from: usize,
    to: usize,
    lex: &Lexicon,
    leading_preposition: bool,
) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let mut at = from;
    // "the issue with the export" is about the export.
    while at < to {
        let t = &tokens[at];
        let filler =
            ["issue", "issues", "problem", "problems", "bug", "error", "trouble", "problème", "souci"]
                .contains(&t.lower.as_str())
                && tokens.get(at + 1).is_some_and(|n| {
                    at + 1 < to
                        && ["with", "in", "on", "of", "affecting", "avec", "de", "mit", "bei"]
                            .contains(&n.lower.as_str())
                });
        if filler {
            at += 2;
            continue;
        }
        if lex.stop.contains(&t.lower.as_str()) && !is_key(tokens, at, lex) {
            at += 1;
            continue;
        }
        break;
    }
    for i in at..to {
        let t = &tokens[i];
        if t.raw.is_empty() || lexicon::NEVER_IN_NOTE.contains(&t.lower.as_str()) {
            continue;
        }
        let key = is_key(tokens, i, lex);
        let preposition = lex.prepositions.contains(&t.lower.as_str());
        if preposition && !key {
            if !words.is_empty() || leading_preposition {
                words.push(Word { text: t.lower.clone(), key: false, joint: true });
            }
            continue;
        }
        if !key && (lex.stop.contains(&t.lower.as_str()) || t.raw.chars().all(|c| !c.is_alphanumeric())) {
            continue;
        }
        let text = if key || lex.language == Language::De { t.raw.clone() } else { t.lower.clone() };
        words.push(Word { text, key, joint: false });
    }
    trim_joints(&mut words);
    words
}

/// A word of a note.
#[derive(Debug, Clone, PartialEq)]
struct Word {
    text: String,
    /// A product name or code: never dropped for length, case kept.
    key: bool,
    /// A preposition: only worth keeping between two other words.
    joint: bool,
}

fn trim_joints(words: &mut Vec<Word>) {
    while words.last().is_some_and(|w| w.joint) {
        words.pop();
    }
    words.dedup_by(|b, a| a.text.eq_ignore_ascii_case(&b.text));
    // Of two prepositions in a row the second one leads to the next word ("… at 2pm").
    let mut kept: Vec<Word> = Vec::with_capacity(words.len());
    for word in words.drain(..) {
        if word.joint && kept.last().is_some_and(|w| w.joint) {
            kept.pop();
        }
        kept.push(word);
    }
    *words = kept;
}

/// Keeps at most `budget` words in their order, key words first, then the earliest others.
fn clamp(words: &[Word], budget: usize) -> Vec<Word> {
    if words.len() <= budget {
        return words.to_vec();
    }
    let mut keep = vec![false; words.len()];
    let mut left = budget;
    for (i, w) in words.iter().enumerate() {
        if w.key && left > 0 {
            keep[i] = true;
            left -= 1;
        }
    }
    for (i, w) in words.iter().enumerate() {
        if !keep[i] && !w.joint && left > 0 && i < budget + 2 {
            keep[i] = true;
            left -= 1;
        }
    }
    // A preposition stays only where both neighbours stayed and there is room.
    for i in 0..words.len() {
        let before = i == 0 || keep[i - 1];
        if words[i].joint && left > 0 && before && keep.get(i + 1).copied().unwrap_or(false) {
            keep[i] = true;
            left -= 1;
        }
    }
    let mut out: Vec<Word> = words.iter().zip(keep).filter(|(_, k)| *k).map(|(w, _)| w.clone()).collect();
    trim_joints(&mut out);
    out
}

/// One way to summarize the message, and how good it is.
#[derive(Debug)]
struct Candidate {
    score: i32,
    lemma: String,
    object: Vec<Word>,
    /// For a question note: the template the topic goes into.
    template: Option<&'static str>,
}

fn window_has(tokens: &[Token], at: usize, back: usize, words: &[&str]) -> bool {
    tokens[at.saturating_sub(back)..at].iter().any(|t| words.contains(&t.lower.as_str()))
}

/// The product names and codes of a sentence, "HTTP 502" as one.
fn keys(tokens: &[Token], lex: &Lexicon) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        if is_key(tokens, at, lex) {
            let mut text = tokens[at].raw.clone();
            if tokens
                .get(at + 1)
                .is_some_and(|n| n.raw.len() == 3 && n.raw.chars().all(|c| c.is_ascii_digit()))
                && is_key(tokens, at + 1, lex)
            {
                text = format!("{text} {}", tokens[at + 1].raw);
                at += 1;
            }
            if !out.iter().any(|k| k.text == text) {
                out.push(Word { text, key: true, joint: false });
            }
        }
        at += 1;
    }
    out
}

fn clause_bounds(tokens: &[Token], at: usize, end: usize, lex: &Lexicon) -> (usize, usize) {
    let mut start = at;
    while start > 0 && !tokens[start - 1].breaks_after && !tokens[start - 1].raw.is_empty() {
        if lex.clause_breaks.contains(&tokens[start - 1].lower.as_str()) {
            break;
        }
        start -= 1;
    }
    let mut stop = end;
    if end > 0 && tokens[end - 1].breaks_after {
        return (start, stop);
    }
    while stop < tokens.len() {
        let t = &tokens[stop];
        if t.raw.is_empty() || lex.clause_breaks.contains(&t.lower.as_str()) {
            break;
        }
        stop += 1;
        if t.breaks_after {
            break;
        }
    }
    (start, stop)
}

fn action_candidates(tokens: &[Token], question: bool, lex: &Lexicon, out: &mut Vec<Candidate>) {
    let requested = lex.requests.iter().any(|r| (0..tokens.len()).any(|i| phrase_at(tokens, i, r) > 0));
    let mut at = 0;
    while at < tokens.len() {
        let Some((verb, mut end)) = verb_at(tokens, at, lex) else {
            at += 1;
            continue;
        };
        if at > 0
            && DETERMINERS.contains(&tokens[at - 1].lower.as_str())
            && !TAKES_PREPOSITION.contains(&verb.lemma)
        {
            at = end;
            continue;
        }
        // "walked your accountant through the approval flow": the flow is the object.
        if verb.lemma.ends_with("through") {
            if let Some(through) = (end..tokens.len().min(end + 5)).find(|i| tokens[*i].lower == "through") {
                end = through + 1;
            }
        }
        let (start, stop) = clause_bounds(tokens, at, end, lex);
        let leading = TAKES_PREPOSITION.contains(&verb.lemma);
        let after = object_words(tokens, end, stop, lex, leading);
        let before = object_words(tokens, start, at, lex, false);
        let mut object = match (lex.verb_last, after.is_empty()) {
            (true, _) if !before.is_empty() => before,
            (_, false) => after,
            _ => before,
        };
        // A code elsewhere in the sentence ("returns HTTP 502; I'm investigating …") is what the work is about.
        if !object.iter().any(|w| w.key) {
            let codes: Vec<Word> =
                keys(tokens, lex).into_iter().filter(|k| is_code(&k.text)).take(2).collect();
            if !codes.is_empty() {
                if let Some(first) = object.first_mut() {
                    first.joint = false;
                }
                object = codes.into_iter().chain(object).collect();
            }
        }
        let mut score = i32::from(verb.weight);
        if window_has(tokens, at, 3, FIRST_PERSON) {
            score += 4;
        } else if requested || window_has(tokens, at, 2, PASSIVE) {
            score += 2;
        }
        if window_has(tokens, at, 3, NEGATION) {
            score -= 5;
        }
        if window_has(tokens, at, 4, CONDITIONAL) {
            score -= 3;
        }
        if question && !requested {
            score -= 2;
        }
        score += key_bonus(&object);
        score += if object.iter().any(|w| !w.joint) { 2 } else { -3 };
        out.push(Candidate { score, lemma: verb.lemma.to_owned(), object, template: None });
        at = end;
    }
}

fn key_bonus(words: &[Word]) -> i32 {
    2 * i32::try_from(words.iter().filter(|w| w.key).count().min(2)).unwrap_or(0)
}

/// The topic of a sentence: its content words, without action verbs and problem verbs.
fn topic(tokens: &[Token], lex: &Lexicon, skip: &[usize]) -> Vec<Word> {
    let kept: Vec<Token> =
        tokens.iter().enumerate().filter(|(i, _)| !skip.contains(i)).map(|(_, t)| t.clone()).collect();
    let mut words = object_words(&kept, 0, kept.len(), lex, false);
    words.retain(|w| {
        !lex.verbs.iter().any(|v| v.forms.split(' ').any(|f| f == w.text.to_lowercase()))
            && ![
                "how", "what", "why", "when", "where", "which", "comment", "pourquoi", "wie", "warum",
                "cómo", "hoe",
            ]
            .contains(&w.text.to_lowercase().as_str())
    });
    trim_joints(&mut words);
    words
}

fn problem_candidate(tokens: &[Token], lex: &Lexicon) -> Option<Candidate> {
    let mut skip = Vec::new();
    let mut first = None;
    let mut adjective = None;
    for at in 0..tokens.len() {
        for problem in lex.problems {
            let len = phrase_at(tokens, at, problem);
            // "the missing timesheets" names a thing; "timesheets are missing" reports a problem.
            let attributive = at > 0 && DETERMINERS.contains(&tokens[at - 1].lower.as_str());
            if len > 0 && !attributive {
                first.get_or_insert(at);
                if !PROBLEM_NOUNS.contains(problem) {
                    skip.extend(at..at + len);
                }
                if ["slow", "broken", "blank", "missing", "stuck"].contains(problem) {
                    adjective.get_or_insert(*problem);
                }
            }
        }
    }
    let first = first?;
    // The topic is the clause around the problem, up to its cause ("… failed due to a full disk").
    let (start, _) = clause_bounds(tokens, first, first + 1, lex);
    let stop = (first + 1..tokens.len())
        .find(|i| {
            tokens[*i].raw.is_empty()
                || PROBLEM_STOPS.contains(&tokens[*i].lower.as_str())
                || tokens[*i - 1].breaks_after
        })
        .unwrap_or(tokens.len());
    let skip: Vec<usize> =
        skip.into_iter().filter(|i| (start..stop).contains(i)).map(|i| i - start).collect();
    let mut object = topic(&tokens[start..stop], lex, &skip);
    if let Some(adjective) = adjective.filter(|_| lex.language == Language::En && !object.is_empty()) {
        object.insert(0, Word { text: adjective.to_owned(), key: false, joint: false });
    }
    let score = 5 + key_bonus(&object) + if object.is_empty() { -3 } else { 1 };
    Some(Candidate { score, lemma: lex.investigate.to_owned(), object, template: None })
}

fn question_candidate(tokens: &[Token], lex: &Lexicon) -> Candidate {
    // "How do I export invoices to PDF?" → "Explain how to export invoices to PDF".
    if lex.language == Language::En && tokens.first().is_some_and(|t| t.lower == "how") {
        let subject = tokens
            .iter()
            .position(|t| ["i", "we", "you", "one", "users", "someone"].contains(&t.lower.as_str()));
        if let Some(subject) = subject.filter(|s| *s <= 3) {
            let mut rest: Vec<Word> = tokens[subject + 1..]
                .iter()
                .filter(|t| {
                    !t.raw.is_empty()
                        && !["my", "our", "your", "the", "a", "an", "please"].contains(&t.lower.as_str())
                })
                .map(|t| {
                    let key = is_key_word(&t.raw);
                    Word { text: if key { t.raw.clone() } else { t.lower.clone() }, key, joint: false }
                })
                .collect();
            trim_joints(&mut rest);
            if !rest.is_empty() {
                let score = 5 + key_bonus(&rest);
                return Candidate { score, lemma: "Explain how to".to_owned(), object: rest, template: None };
            }
        }
    }
    let object = topic(tokens, lex, &[]);
    let score = 3 + key_bonus(&object) + if object.is_empty() { -3 } else { 0 };
    Candidate { score, lemma: String::new(), object, template: Some(lex.question) }
}

/// Which language a text is written in, by its most frequent words; English on a tie.
pub(crate) fn detect(text: &str) -> Language {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_lowercase())
        .collect();
    let mut best = (&lexicon::EN, lexicon::marker_hits(&lexicon::EN, &words));
    for lex in lexicon::ALL.iter().skip(1) {
        let hits = lexicon::marker_hits(lex, &words);
        if hits > best.1 {
            best = (lex, hits);
        }
    }
    best.0.language
}

/// The note for a message: always 2–8 words, in the message's language where the lexicon allows.
pub(crate) fn summarize(text: &str) -> String {
    let sentences = clean::sentences(text);
    let language = detect(&sentences.join(" "));
    let lex = lexicon::of(language);
    let mut best: Option<(Candidate, usize)> = None;
    let mut all_keys: Vec<Word> = Vec::new();
    for (index, sentence) in sentences.iter().enumerate() {
        let tokens = tokens(sentence);
        for key in keys(&tokens, lex) {
            if !all_keys.iter().any(|k| k.text == key.text) {
                all_keys.push(key);
            }
        }
        let question = sentence.trim_end().ends_with('?');
        let mut candidates = Vec::new();
        action_candidates(&tokens, question, lex, &mut candidates);
        candidates.extend(problem_candidate(&tokens, lex));
        if question {
            candidates.push(question_candidate(&tokens, lex));
        }
        let topic = topic(&tokens, lex, &[]);
        let score = 1 + key_bonus(&topic) + if topic.is_empty() { -4 } else { 0 };
        candidates.push(Candidate { score, lemma: lex.review.to_owned(), object: topic, template: None });
        // Earlier sentences carry the point of a reply; later ones tend to be asides.
        let penalty = i32::try_from(index.min(6)).unwrap_or(6);
        for mut candidate in candidates {
            candidate.score -= penalty;
            if best.as_ref().is_none_or(|(b, _)| candidate.score > b.score) {
                best = Some((candidate, index));
            }
        }
    }
    let note = match best {
        Some((candidate, _)) => build(candidate, &all_keys, lex),
        None => Vec::new(),
    };
    finish(note, lex)
}

fn build(candidate: Candidate, all_keys: &[Word], lex: &Lexicon) -> Vec<String> {
    let Candidate { lemma, mut object, template, .. } = candidate;
    if object.iter().all(|w| w.joint) {
        object = all_keys.iter().take(3).cloned().collect();
    }
    if object.is_empty() && (template.is_some() || lemma == lex.review) {
        // Nothing to review or answer about: the neutral note says so honestly.
        return Vec::new();
    }
    if object.is_empty() {
        object = generic_object(lex);
    }
    // An error code anywhere in the message is what a Harvest report will be searched for.
    if let Some(code) = all_keys.iter().find(|k| is_code(&k.text)) {
        if !object.iter().any(|w| w.text == code.text) && object.len() < 6 {
            object.push(code.clone());
        }
    }
    // A product name or code somewhere in the message belongs in the note when the object has none.
    if !object.iter().any(|w| w.key) {
        if let Some(key) = all_keys.first() {
            if is_code(&key.text) {
                object.push(key.clone());
            } else {
                object.push(Word { text: lex.product_preposition.to_owned(), key: false, joint: true });
                object.push(key.clone());
            }
        }
    }
    match template {
        Some(template) => {
            if object.is_empty() {
                return Vec::new();
            }
            let fixed = template.split_whitespace().count() - 1;
            let object = clamp(&object, 8 - fixed);
            let topic: Vec<&str> = object.iter().map(|w| w.text.as_str()).collect();
            template.replace("{}", &topic.join(" ")).split_whitespace().map(str::to_owned).collect()
        }
        None => {
            let lemma_words: Vec<String> = lemma.split_whitespace().map(str::to_owned).collect();
            if lemma == "Follow up on" && object.first().is_some_and(|w| w.joint) {
                return assemble(&lemma_words[..2], &object, lex);
            }
            assemble(&lemma_words, &object, lex)
        }
    }
}

fn assemble(lemma: &[String], object: &[Word], lex: &Lexicon) -> Vec<String> {
    let object = clamp(object, 8 - lemma.len());
    let object: Vec<String> = object.into_iter().map(|w| w.text).collect();
    if lex.verb_last {
        object.into_iter().chain(lemma.iter().cloned()).collect()
    } else {
        lemma.iter().cloned().chain(object).collect()
    }
}

fn is_code(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit()) || word.contains('_')
}

fn generic_object(lex: &Lexicon) -> Vec<Word> {
    let text = match lex.language {
        Language::En => "reported issue",
        Language::Fr => "problème signalé",
        Language::De => "gemeldetes Problem",
        Language::Es => "incidencia reportada",
        Language::Nl => "gemelde probleem",
    };
    text.split(' ').map(|w| Word { text: w.to_owned(), key: false, joint: false }).collect()
}

/// The last safety net: greeting words out, 2–8 words, first word capitalised, no punctuation at the end.
fn finish(words: Vec<String>, lex: &Lexicon) -> String {
    let mut words: Vec<String> = words
        .into_iter()
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, '"' | '`' | '“' | '”' | '\'' | ',' | ';' | ':')).to_owned()
        })
        .filter(|w| !w.is_empty() && !lexicon::NEVER_IN_NOTE.contains(&w.to_lowercase().as_str()))
        .collect();
    words.truncate(8);
    while words.last().is_some_and(|w| {
        let lower = w.to_lowercase();
        lex.prepositions.contains(&lower.as_str()) || lex.stop.contains(&lower.as_str()) && !is_key_word(w)
    }) && words.len() > 2
    {
        words.pop();
    }
    if words.len() < 2 {
        words = lex.fallback.split(' ').map(str::to_owned).collect();
    }
    let mut note = words.join(" ");
    note = note.trim_end_matches(|c: char| c.is_ascii_punctuation() && c != ')' && c != '%').to_owned();
    let mut chars = note.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => lex.fallback.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_names_and_codes_are_key_words() {
        for word in ["SSO", "QuickBooks", "ERR_CONNECTION_RESET", "E1234", "0x80070005", "SSO-Weiterleitung"]
        {
            assert!(is_key_word(word), "{word} must be kept as written");
        }
        for word in ["Fixed", "invoice", "OK", "I"] {
            assert!(!is_key_word(word), "{word} is an ordinary word");
        }
    }

    #[test]
    fn a_first_person_fix_becomes_an_imperative_note() {
        assert_eq!(summarize("I fixed the issue with the SSO login redirect."), "Fix SSO login redirect");
    }

    #[test]
    fn clamping_keeps_codes_past_the_budget() {
        let word = |t: &str, key: bool| Word { text: t.to_owned(), key, joint: false };
        let words = vec![word("a", false), word("b", false), word("c", false), word("E42", true)];
        let kept: Vec<String> = clamp(&words, 2).into_iter().map(|w| w.text).collect();
        assert_eq!(kept, vec!["a", "E42"], "the code survives, the earliest other word fills the rest");
    }

    #[test]
    fn languages_are_told_apart_by_their_frequent_words() {
        assert_eq!(detect("J'ai corrigé la redirection et le problème est résolu"), Language::Fr);
        assert_eq!(detect("Ich habe die Rechnung geprüft und es ist alles korrekt"), Language::De);
        assert_eq!(detect("He corregido el error y ya funciona"), Language::Es);
        assert_eq!(detect("Ik heb het probleem opgelost, het werkt nu weer"), Language::Nl);
        assert_eq!(detect("I fixed the export and it works"), Language::En);
    }
}
