//! The ✦ note generator: the local summarizer over a table of realistic
//! replies and notes (properties checked for every one, and a comparison
//! with taking the first words), and the model path against a small fake
//! OpenAI-compatible server on port 0.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tickettime::summarize::{
    self, action_language, language_of, summarize_local, Language, LlmConfig, Source,
};

/// A message from the table: what a help desk stores, the words its note must keep, its language.
struct Case {
    text: &'static str,
    keep: &'static [&'static str],
    language: Option<Language>,
}

const fn case(text: &'static str, keep: &'static [&'static str], language: Option<Language>) -> Case {
    Case { text, keep, language }
}

const EN: Option<Language> = Some(Language::En);
const FR: Option<Language> = Some(Language::Fr);
const DE: Option<Language> = Some(Language::De);
const ES: Option<Language> = Some(Language::Es);
const NL: Option<Language> = Some(Language::Nl);

const LONG_REPLY: &str =
    "Hi Rachel,\n\nThanks for your patience while we dug into this one. Over the last two days \
we looked at the import logs, the queue metrics and the database load on the reporting cluster. The \
nightly import was not the problem: it finished on time every night. What we found is that the report \
builder retried failed chart renders without any backoff, and each retry opened a new connection to the \
analytics database. Once the pool was exhausted, every dashboard request waited for a free connection \
and eventually gave up with a timeout, which is the blank page your team saw in the morning.\n\n\
I fixed the retry loop in the report builder so it backs off and gives up after three attempts, and \
raised the connection pool of the AnalyticsDB replica from 20 to 50. I also added an alert on pool \
saturation so we hear about it before you do. Dashboards have loaded in under two seconds since \
yesterday evening.\n\nLet me know if you still see blank pages.\n\nBest regards,\nDavid\nAcme Support";

const GMAIL_HTML: &str = "<div dir=\"ltr\"><p>Hi Mark,</p><p>I reset your <b>Okta</b> password and unlocked \
the account. You can sign in again.</p><p>Best,<br>Jenny</p><div class=\"gmail_quote\"><div \
class=\"gmail_attr\">On Tue, Mar 3, 2026 at 9:14 AM Mark Lee &lt;mark@acme.test&gt; wrote:<br></div>\
<blockquote class=\"gmail_quote\">Hi, I am locked out of Okta after too many attempts. Thanks, Mark\
</blockquote></div></div>";

const OUTLOOK_HTML: &str = "<html><head><style>p{margin:0}</style></head><body><p>Hello Bob,</p>\
<p>I&#39;ve updated the DNS records for mail.acme.test &ndash; propagation can take up to an hour.</p>\
<p>Kind regards,<br>Support</p><div id=\"divRplyFwdMsg\"><b>From:</b> Bob<br><b>Sent:</b> Monday<br>\
<b>Subject:</b> Email bounces</div><div>Our emails bounce since Friday. Thanks!</div></body></html>";

const CASES: &[Case] = &[
    case(
        "Hi Sarah,\n\nI've fixed the issue with the SSO login redirect — you should now land on the dashboard \
         after signing in.\n\nBest regards,\nTom",
        &["SSO"],
        EN,
    ),
    case("Thanks for reporting this! We deployed a fix for the CSV export timeout this morning.\n\nCheers,\nMia", &["CSV"], EN),
    case(
        "Hello,\nSince this morning every sync fails with ERR_CONNECTION_RESET when I open the Reports tab.\n\
         Regards,\nPaul",
        &["ERR_CONNECTION_RESET"],
        EN,
    ),
    case("Hi there,\nHow do I export my invoices to PDF?\nThanks!\nAnna", &["PDF"], EN),
    case(
        "Dear support,\nI was charged twice for the March invoice. Could you refund the duplicate payment?\n\
         Kind regards,\nLaura Mills\nFinance, Acme Ltd",
        &["refund"],
        EN,
    ),
    case("Had a call with Globex about the Q3 rollout plan and agreed next steps.", &["Globex"], EN),
    case("Just following up on the VPN access request from last week — any update?", &["VPN"], EN),
    case(GMAIL_HTML, &["Okta"], EN),
    case("fixed typo on pricing page", &["pricing"], EN),
    case("restarted the worker", &["worker"], EN),
    case(
        "I've updated the DNS records for mail.acme.test; propagation can take up to an hour.\n\n\
         ________________________________\nFrom: Bob <bob@acme.test>\nSent: Monday, 2 March 2026 10:00\n\
         To: Support\nSubject: Email bounces\n\nOur emails bounce since Friday.",
        &["DNS"],
        EN,
    ),
    case(OUTLOOK_HTML, &["DNS"], EN),
    case(LONG_REPLY, &["report builder"], EN),
    case(
        "Bonjour Marie,\n\nJ'ai corrigé la redirection SSO sur la page de connexion. Tout fonctionne \
         maintenant.\n\nCordialement,\nLuc",
        &["SSO"],
        FR,
    ),
    case(
        "Hallo Herr Müller,\n\nich habe die SSO-Weiterleitung korrigiert, die Anmeldung funktioniert wieder.\n\n\
         Mit freundlichen Grüßen\nAnna Schmidt",
        &["SSO"],
        DE,
    ),
    case(
        "Hola Juan,\n\nHe corregido el error de sincronización con Salesforce. Ya debería funcionar.\n\n\
         Saludos,\nMaría",
        &["Salesforce"],
        ES,
    ),
    case(
        "Hallo Pieter,\n\nIk heb de koppeling met Exact Online opgelost. Alles werkt weer.\n\n\
         Met vriendelijke groet,\nSanne",
        &["Exact"],
        NL,
    ),
    case("Bonjour,\nComment puis-je exporter mes factures en PDF ?\nMerci d'avance,\nClaire", &["PDF"], FR),
    case("Guten Tag,\nder Export nach DATEV bricht mit Fehler E4012 ab.\nViele Grüße\nJan", &["E4012"], DE),
    case(
        "Estimado equipo,\nNo puedo descargar la factura de febrero desde el portal, sale un error.\nGracias,\nCarlos",
        &["factura"],
        ES,
    ),
    case(
        "**Internal note**\n- Reproduced the crash in the iOS app (build 4.2.1)\n- Root cause: null pointer in \
         `SyncService`\n- Patched and deployed to TestFlight",
        &["iOS"],
        EN,
    ),
    case(
        "Checked logs, the nightly backup job on db-02 failed due to a full disk. Cleared old snapshots and \
         reran the backup.",
        &["backup"],
        EN,
    ),
    case("Configured SAML for the Acme tenant in Azure AD and tested with two users.", &["SAML"], EN),
    case(
        "We migrated your workspace to the EU data center over the weekend; no action needed on your side.",
        &["EU"],
        EN,
    ),
    case(
        "I have refunded the duplicate charge of $49 to your Visa card. It may take 5-10 days to appear.",
        &["refund"],
        EN,
    ),
    case("I scheduled a training session with your team for Thursday at 2pm.", &["training"], EN),
    case(
        "Great question! The API rate limit is 100 requests per 15 seconds per token; see our docs for details.",
        &["API"],
        EN,
    ),
    case(
        "The dashboard is really slow since the last update, pages take 30 seconds to load.",
        &["dashboard"],
        EN,
    ),
    case(
        "##- Please type your reply above this line -##\n\nTicket #4521: Printer offline\n\nYour request has been \
         updated. The HP LaserJet on floor 3 was restarted and is back online.\n\nThis is an automated message \
         from Acme Help Desk.",
        &["LaserJet"],
        EN,
    ),
    case("Hi!\n\nThanks,\nBob", &[], None),
    case("", &[], None),
    case("👍👍", &[], None),
    case("ok thanks", &[], None),
    case("Granted Lisa admin access to the Harvest project 'Website Redesign'.", &["Harvest"], EN),
    case("Upgraded PostgreSQL from 13 to 16 on the staging server.", &["PostgreSQL"], EN),
    case(
        "Customer gets 0x80070005 when installing the Outlook add-in. Looking into it.",
        &["0x80070005"],
        EN,
    ),
    case(
        "The webhook endpoint returns HTTP 502 intermittently; I'm investigating with the hosting provider.",
        &["502"],
        EN,
    ),
    case(
        "[Ticket: 8812] Re: Password reset\n\nHello,\n\nYour password has been reset. Please log in and choose a \
         new one.\n\nKind regards,\nHelpdesk",
        &["password"],
        EN,
    ),
    case(
        "Meeting with Initech about the renewal: discussed pricing tiers, they want a quote for 50 seats by Friday.",
        &["Initech"],
        EN,
    ),
    case("Followed up with the client regarding the missing timesheets for February.", &["timesheets"], EN),
    case(
        "Hi Dana,\n\nI looked into why the Slack notifications stopped. The Slack app token had expired, so I \
         regenerated it and re-enabled the integration. Notifications are flowing again.\n\nLet me know if \
         anything else comes up.\n\nThanks,\nOmar\n\n> On Mon, Dana wrote:\n> Slack notifications stopped \
         working yesterday",
        &["Slack"],
        EN,
    ),
    case(
        "Bonjour,\nJ'ai remboursé la facture en double de mars. Le montant apparaîtra sous 5 jours.\n\
         Bien à vous,\nSophie",
        &["facture"],
        FR,
    ),
    case("Hallo,\nwie kann ich die Arbeitszeiten als CSV exportieren?\nDanke und viele Grüße\nTim", &["CSV"], DE),
    case(
        "Beste,\nKunt u het wachtwoord van mijn account resetten? Ik kan niet inloggen.\nGroeten,\nEmma",
        &["wachtwoord"],
        NL,
    ),
    case("Hola,\n¿Cómo puedo cambiar el idioma de la aplicación?\nGracias", &["idioma"], ES),
    case(
        "Done — deployed v2.4.1 to production.\n\n-- \nJohn Doe | Senior Engineer\nAcme Corp | +1 555 0100\n\
         www.acme.test",
        &["v2.4.1"],
        EN,
    ),
    case("Can you add my new colleague Priya to the Marketing project?\n\nSent from my iPhone", &["Marketing"], EN),
    case(
        "Hey team, quick one: the Zapier integration stopped creating tasks after we renamed the project. Can \
         someone take a look?",
        &["Zapier"],
        EN,
    ),
    case(
        "Hi Kim,\n\nI walked your accountant through the new expense approval flow and sent her the recording.\n\n\
         Have a great weekend!\nLeo",
        &["expense"],
        EN,
    ),
];

/// Words no note may contain: they belong to greetings and sign-offs.
const GREETING_WORDS: &[&str] = &[
    "hi", "hello", "dear", "thanks", "regards", "cheers", "bonjour", "hallo", "hola", "gracias", "merci",
    "danke",
];

fn keeps(note: &str, term: &str) -> bool {
    note.to_lowercase().contains(&term.to_lowercase())
}

fn first_words(text: &str) -> String {
    text.split_whitespace().take(8).collect::<Vec<_>>().join(" ")
}

#[test]
fn the_table_has_at_least_forty_varied_cases() {
    assert!(CASES.len() >= 40, "the issue asks for at least 40 realistic messages, got {}", CASES.len());
    for language in [FR, DE, ES, NL] {
        assert!(CASES.iter().any(|c| c.language == language), "{language:?} must be covered");
    }
}

#[test]
fn every_note_is_two_to_eight_words_on_one_line_without_trailing_punctuation() {
    for case in CASES {
        let note = summarize_local(case.text);
        let words = note.split_whitespace().count();
        assert!((2..=8).contains(&words), "Harvest notes are 2–8 words: {note:?} from {:?}", case.text);
        assert!(!note.contains('\n'), "a note is one line: {note:?}");
        assert!(
            !note.ends_with(|c: char| c.is_ascii_punctuation()),
            "notes end without punctuation: {note:?} from {:?}",
            case.text
        );
        assert!(note.starts_with(|c: char| !c.is_lowercase()), "the first word is capitalised: {note:?}");
    }
}

#[test]
fn no_note_contains_a_greeting_or_signature_word() {
    for case in CASES {
        let note = summarize_local(case.text);
        for word in note.split_whitespace() {
            let word = word.to_lowercase();
            assert!(
                !GREETING_WORDS.contains(&word.as_str()),
                "{word:?} is a greeting or sign-off, in {note:?}"
            );
        }
    }
}

#[test]
fn every_marked_key_term_is_kept() {
    let missed: Vec<String> = CASES
        .iter()
        .flat_map(|case| {
            let note = summarize_local(case.text);
            let missing: Vec<String> = case
                .keep
                .iter()
                .filter(|term| !keeps(&note, term))
                .map(|term| format!("{term:?} not in {note:?}"))
                .collect();
            missing
        })
        .collect();
    assert!(missed.is_empty(), "product names, codes and the object of the work must survive: {missed:#?}");
}

#[test]
fn notes_are_written_in_the_messages_language() {
    for case in CASES {
        let Some(language) = case.language else { continue };
        assert_eq!(language_of(case.text), language, "language of {:?}", case.text);
        let note = summarize_local(case.text);
        assert_eq!(action_language(&note), Some(language), "{note:?} should open with a {language:?} action");
    }
}

#[test]
fn the_same_message_always_gives_the_same_note() {
    for case in CASES {
        assert_eq!(summarize_local(case.text), summarize_local(case.text), "the summarizer is deterministic");
    }
}

#[test]
fn the_summarizer_keeps_key_terms_far_more_often_than_the_first_words_do() {
    let marked: Vec<&Case> = CASES.iter().filter(|c| !c.keep.is_empty()).collect();
    let kept_by = |summarize: &dyn Fn(&str) -> String| {
        marked.iter().filter(|c| c.keep.iter().all(|term| keeps(&summarize(c.text), term))).count()
    };
    let ours = kept_by(&|text| summarize_local(text));
    let baseline = kept_by(&first_words);
    assert!(
        ours >= marked.len() * 9 / 10 && ours >= baseline + marked.len() / 4,
        "the summarizer must beat the first 8 words by a wide margin: {ours} vs {baseline} of {}",
        marked.len()
    );
    let greeted = CASES
        .iter()
        .filter(|c| {
            let first = first_words(c.text).to_lowercase();
            GREETING_WORDS.iter().any(|g| first.split(|ch: char| !ch.is_alphanumeric()).any(|w| w == *g))
        })
        .count();
    assert!(
        greeted >= 10,
        "the table must have greetings for the comparison to mean something, got {greeted}"
    );
}

#[test]
fn empty_or_greeting_only_messages_get_a_neutral_note() {
    for text in ["", "   ", "Hi!\n\nThanks,\nBob", "👍"] {
        assert_eq!(summarize_local(text), "Review ticket", "nothing to summarize: {text:?}");
    }
}

// ---- The model path, against a fake OpenAI-compatible server ----

#[derive(Clone, Copy)]
enum Reply {
    Content(&'static str),
    Slow(Duration),
    Status(u16),
}

/// What the fake server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    authorization: Option<String>,
    body: Value,
}

#[derive(Clone)]
struct Fake {
    reply: Reply,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("the fake server's log is not poisoned").clone()
    }
}

async fn completions(State(fake): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    fake.seen.lock().expect("the fake server's log is not poisoned").push(Seen { authorization, body });
    let content = match fake.reply {
        Reply::Content(content) => content,
        Reply::Slow(delay) => {
            tokio::time::sleep(delay).await;
            "Fix SSO login redirect"
        }
        Reply::Status(status) => {
            let status = StatusCode::from_u16(status).expect("the test uses a valid status");
            return (status, Json(json!({ "error": { "message": "boom" } }))).into_response();
        }
    };
    Json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }],
    }))
    .into_response()
}

/// Starts the fake server on a free port; returns its base URL (`…/v1`) and its log.
async fn fake_server(reply: Reply) -> (String, Fake) {
    let fake = Fake { reply, seen: Arc::default() };
    let app = Router::new().route("/v1/chat/completions", post(completions)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port on localhost");
    let addr = listener.local_addr().expect("the listener has an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), fake)
}

const REPLY: &str = "Hi Sarah,\n\nI've fixed the issue with the SSO login redirect.\n\nBest regards,\nTom";

/// Patient enough for a loaded test machine; the slow model's test waits less.
fn config(url: String) -> LlmConfig {
    LlmConfig { timeout: Duration::from_secs(10), ..LlmConfig::new(url) }
}

#[tokio::test]
async fn a_good_answer_from_the_model_is_the_note() {
    let (url, fake) = fake_server(Reply::Content("Fix SSO login redirect")).await;
    let note = summarize::summarize(REPLY, Some(&config(url))).await;
    assert_eq!(note.text, "Fix SSO login redirect", "the model's note is used as is");
    assert_eq!(note.source, Source::Llm, "the UI must say the model wrote it");
    assert_eq!(note.fallback_reason, None, "nothing fell back");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "one request per note");
    let body = &requests[0].body;
    assert_eq!(body["model"], "llama3.2", "the default model is asked");
    assert_eq!(body["temperature"], 0, "notes should not vary between runs");
    assert_eq!(body["max_tokens"], 32, "a note is short");
    assert_eq!(body["messages"][0]["role"], "system", "the instructions go first");
    let user = body["messages"][1]["content"].as_str().expect("the message is sent as text");
    assert!(user.contains("SSO login redirect"), "the reply is sent: {user}");
    assert!(!user.contains("Best regards"), "the signature is cleaned off before sending: {user}");
    assert_eq!(requests[0].authorization, None, "no key, no Authorization header");
}

#[tokio::test]
async fn the_key_is_sent_as_a_bearer_token_to_a_full_endpoint_url() {
    let (url, fake) = fake_server(Reply::Content("Fix SSO login redirect")).await;
    let mut config = config(format!("{url}/chat/completions"));
    config.key = Some("sk-test-123".to_owned().into());
    config.model = "gpt-4o-mini".to_owned();
    let note = summarize::summarize(REPLY, Some(&config)).await;
    assert_eq!(note.source, Source::Llm, "a full endpoint URL works like a base URL");
    let requests = fake.requests();
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer sk-test-123"),
        "hosted providers need the key"
    );
    assert_eq!(requests[0].body["model"], "gpt-4o-mini", "the configured model is asked");
}

#[tokio::test]
async fn a_slow_model_gives_way_to_the_local_note() {
    let (url, _fake) = fake_server(Reply::Slow(Duration::from_secs(30))).await;
    let impatient = LlmConfig { timeout: Duration::from_millis(300), ..config(url) };
    let note = summarize::summarize(REPLY, Some(&impatient)).await;
    assert_eq!(note.source, Source::Local, "the user must not wait for a slow model");
    assert_eq!(note.text, summarize_local(REPLY), "the local summarizer answers instead");
    let reason = note.fallback_reason.expect("the UI says why the model's note was not used");
    assert!(reason.contains("did not answer"), "the reason names the timeout: {reason}");
}

#[tokio::test]
async fn a_server_error_gives_way_to_the_local_note() {
    let (url, _fake) = fake_server(Reply::Status(500)).await;
    let note = summarize::summarize(REPLY, Some(&config(url))).await;
    assert_eq!(note.source, Source::Local, "a failing model must not block the note");
    let reason = note.fallback_reason.expect("the reason is reported");
    assert!(reason.contains("500"), "the reason names the status: {reason}");
}

#[tokio::test]
async fn an_unreachable_server_gives_way_to_the_local_note() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = listener.local_addr().expect("the listener has an address");
    drop(listener);
    let note = summarize::summarize(REPLY, Some(&config(format!("http://{addr}/v1")))).await;
    assert_eq!(note.source, Source::Local, "no server, local note");
    assert!(note.fallback_reason.is_some(), "the reason is reported");
}

#[tokio::test]
async fn a_thirty_word_answer_is_refused() {
    let rambling = "Sure! Here is a short note for your time entry that summarizes the message: the agent fixed \
                    the single sign on login redirect issue that the customer reported earlier this week today";
    let (url, _fake) = fake_server(Reply::Content(rambling)).await;
    let note = summarize::summarize(REPLY, Some(&config(url))).await;
    assert_eq!(note.source, Source::Local, "a 30-word answer is not a Harvest note");
    assert_eq!(
        note.fallback_reason.as_deref(),
        Some("the model's answer was not a 2–8 word note"),
        "the reason says what was wrong"
    );
}

#[tokio::test]
async fn an_answer_in_quotes_is_cleaned_and_accepted() {
    let (url, _fake) = fake_server(Reply::Content("  \"Fix SSO login redirect.\"\n")).await;
    let note = summarize::summarize(REPLY, Some(&config(url))).await;
    assert_eq!(note.source, Source::Llm, "quotes around a good note are only packaging");
    assert_eq!(note.text, "Fix SSO login redirect", "quotes and the full stop are cleaned off");
}

#[tokio::test]
async fn without_a_configured_model_nothing_is_sent() {
    let (_url, fake) = fake_server(Reply::Content("Fix SSO login redirect")).await;
    let note = summarize::summarize(REPLY, None).await;
    assert_eq!(note.source, Source::Local, "the local summarizer is the default");
    assert_eq!(note.fallback_reason, None, "no model was configured, so nothing fell back");
    assert!(fake.requests().is_empty(), "the reply must not leave the machine unless a model is configured");
}

#[test]
fn sample_notes_for_review() {
    // Not an assertion: `cargo test --test summarize -- --nocapture sample` prints the table's notes.
    for case in CASES {
        let note = summarize_local(case.text);
        println!("{:<45} <- {}", note, first_words(case.text).replace('\n', " "));
    }
}
