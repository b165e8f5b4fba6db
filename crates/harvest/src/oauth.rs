//! Connecting a Harvest account with OAuth2's authorization-code flow.
//!
//! The user signs in in the system browser (never an embedded webview);
//! Harvest redirects to a loopback listener on `127.0.0.1:PORT/callback`.
//! Harvest matches the registered redirect URL as a prefix, so the port is
//! fixed (configured), not ephemeral. A high-entropy `state` is checked on
//! return; PKCE parameters are sent too (Harvest does not document PKCE, so
//! nothing depends on it). The token call needs the agency's client secret.

use std::time::Duration;

use chrono::Utc;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, TokenResponse,
    TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::client::{http_client, parse_base};
use crate::model::Accounts;
use crate::{Config, HarvestError, OAuthApp, OAuthTokens, Result};

type HarvestOAuth = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn oauth_client(id_url: &str, app: &OAuthApp, redirect_uri: Option<&str>) -> Result<HarvestOAuth> {
    let base = parse_base(id_url)?;
    let endpoint = |path: &str| {
        base.join(path)
            .map(|u| u.to_string())
            .map_err(|e| HarvestError::OAuth(format!("bad identity URL: {e}")))
    };
    let auth = AuthUrl::new(endpoint("oauth2/authorize")?).map_err(|e| HarvestError::OAuth(e.to_string()))?;
    let token =
        TokenUrl::new(endpoint("api/v2/oauth2/token")?).map_err(|e| HarvestError::OAuth(e.to_string()))?;
    let mut client = BasicClient::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(app.client_secret.expose_secret().to_owned()))
        // Harvest reads client_id and client_secret from the form body.
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(auth)
        .set_token_uri(token);
    if let Some(redirect) = redirect_uri {
        client = client.set_redirect_uri(
            RedirectUrl::new(redirect.to_owned()).map_err(|e| HarvestError::OAuth(e.to_string()))?,
        );
    }
    Ok(client)
}

/// A started sign-in: the URL to open, and what the callback must match.
pub struct Authorization {
    pub url: Url,
    pub state: CsrfToken,
    pub verifier: PkceCodeVerifier,
    pub redirect_uri: String,
}

/// Builds the authorization URL for `redirect_uri` with a fresh 128-bit
/// `state` and a PKCE S256 challenge.
pub fn authorize(id_url: &str, app: &OAuthApp, redirect_uri: &str) -> Result<Authorization> {
    let client = oauth_client(id_url, app, Some(redirect_uri))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    Ok(Authorization { url, state, verifier, redirect_uri: redirect_uri.to_owned() })
}

/// What Harvest's redirect carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub code: String,
    /// `harvest:ACCOUNT_ID` for a single-account app.
    pub scope: Option<String>,
}

/// The loopback listener that receives Harvest's redirect. Bound only to
/// 127.0.0.1, open only while a sign-in is in progress.
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

impl Loopback {
    /// Binds `127.0.0.1:port` (0 picks a free port, for tests).
    pub async fn bind(port: u16) -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            HarvestError::OAuth(format!(
                "cannot listen on 127.0.0.1:{port} for Harvest's redirect ({e}); free the port or set \
                 TICKETTIME_OAUTH_PORT to the port registered in your Harvest OAuth app"
            ))
        })?;
        let port = listener.local_addr().map_err(|e| HarvestError::OAuth(e.to_string()))?.port();
        Ok(Loopback { listener, port })
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// Waits for the redirect to `/callback`, checks `state`, answers the
    /// browser with a short page, and closes the port. Other paths (a
    /// favicon) get a 404 and are ignored.
    pub async fn wait(self, expected_state: &CsrfToken, timeout: Duration) -> Result<Callback> {
        let accept = async {
            loop {
                let (stream, _) = self
                    .listener
                    .accept()
                    .await
                    .map_err(|e| HarvestError::OAuth(format!("loopback: {e}")))?;
                if let Some(outcome) = handle_callback(stream, expected_state).await {
                    return outcome;
                }
            }
        };
        tokio::time::timeout(timeout, accept).await.map_err(|_| {
            HarvestError::OAuth("no answer from the browser in time; run connect again".into())
        })?
    }
}

async fn handle_callback(mut stream: TcpStream, expected_state: &CsrfToken) -> Option<Result<Callback>> {
    let mut line = String::new();
    let mut reader = BufReader::new(&mut stream);
    reader.read_line(&mut line).await.ok()?;
    let target = line.split_whitespace().nth(1)?.to_owned();
    let url = Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if url.path() != "/callback" {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
        return None;
    }
    let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let outcome = match (param("state"), param("error"), param("code")) {
        (state, _, _) if state.as_deref() != Some(expected_state.secret().as_str()) => {
            Err(HarvestError::OAuth(
                "the redirect's state does not match this sign-in (possible forgery); nothing was connected"
                    .into(),
            ))
        }
        (_, Some(error), _) => Err(HarvestError::OAuth(match error.as_str() {
            "access_denied" => "access was denied in Harvest".to_owned(),
            other => format!("Harvest answered `{other}`"),
        })),
        (_, None, Some(code)) if !code.is_empty() => Ok(Callback { code, scope: param("scope") }),
        _ => Err(HarvestError::OAuth("the redirect carried no authorization code".into())),
    };
    let (status, text) = match &outcome {
        Ok(_) => ("200 OK", "Tickettime is connected to Harvest. You can close this tab.".to_owned()),
        Err(e) => ("400 Bad Request", format!("Tickettime could not connect: {e}")),
    };
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>Tickettime</title><p>{}</p>",
        text.replace('&', "&amp;").replace('<', "&lt;")
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    Some(outcome)
}

/// Exchanges the authorization code for tokens.
pub async fn exchange(
    config: &Config,
    app: &OAuthApp,
    auth: Authorization,
    callback: &Callback,
) -> Result<OAuthTokens> {
    let client = oauth_client(&config.id_url, app, Some(&auth.redirect_uri))?;
    let http = http_client(config)?;
    let response = client
        .exchange_code(AuthorizationCode::new(callback.code.clone()))
        .set_pkce_verifier(auth.verifier)
        .request_async(&http)
        .await
        .map_err(token_error)?;
    tokens_from(&response)
}

/// Trades a refresh token for a new pair. Harvest rotates refresh tokens:
/// the old one must be discarded.
pub(crate) async fn refresh(
    http: &reqwest::Client,
    id_url: &str,
    app: &OAuthApp,
    refresh_token: &SecretString,
) -> Result<OAuthTokens> {
    let client = oauth_client(id_url, app, None)?;
    let response = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.expose_secret().to_owned()))
        .request_async(http)
        .await
        .map_err(token_error)?;
    let mut tokens = tokens_from(&response)?;
    if response.refresh_token().is_none() {
        tokens.refresh_token = refresh_token.clone();
    }
    Ok(tokens)
}

fn tokens_from(response: &oauth2::basic::BasicTokenResponse) -> Result<OAuthTokens> {
    Ok(OAuthTokens {
        access_token: SecretString::from(response.access_token().secret().to_owned()),
        refresh_token: SecretString::from(
            response.refresh_token().map(|t| t.secret().to_owned()).unwrap_or_default(),
        ),
        expires_at: response
            .expires_in()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| Utc::now() + d),
    })
}

fn token_error<E: std::error::Error + 'static>(
    error: RequestTokenError<E, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
) -> HarvestError {
    match error {
        RequestTokenError::ServerResponse(response) => HarvestError::OAuth(match response.error() {
            BasicErrorResponseType::InvalidGrant => "the sign-in code or refresh token was refused (expired or already used)".into(),
            BasicErrorResponseType::InvalidClient => {
                "Harvest refused the OAuth app's credentials; check HARVEST_CLIENT_ID and HARVEST_CLIENT_SECRET".into()
            }
            other => format!("Harvest answered `{}`", other.as_ref()),
        }),
        RequestTokenError::Request(e) => HarvestError::Unavailable(format!("the token request failed: {e}")),
        RequestTokenError::Parse(e, _) => HarvestError::InvalidResponse(format!("the token answer: {e}")),
        RequestTokenError::Other(e) => HarvestError::OAuth(e),
    }
}

/// The account named by a `harvest:ID` scope, if exactly one is.
pub fn account_from_scope(scope: &str) -> Option<i64> {
    let mut ids =
        scope.split([' ', '+']).filter_map(|s| s.strip_prefix("harvest:")).filter_map(|id| id.parse().ok());
    let first = ids.next()?;
    ids.next().is_none().then_some(first)
}

/// The Harvest and Forecast accounts a token reaches (identity side, no
/// account header).
pub async fn accounts(config: &Config, token: &SecretString) -> Result<Accounts> {
    let base = parse_base(&config.id_url)?;
    let url = base.join("api/v2/accounts").map_err(|e| HarvestError::OAuth(e.to_string()))?;
    let response = http_client(config)?
        .get(url)
        .bearer_auth(token.expose_secret())
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| HarvestError::Unavailable(e.to_string()))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| HarvestError::Ambiguous(e.to_string()))?;
    match status.as_u16() {
        200 => serde_json::from_str(&body).map_err(|e| HarvestError::InvalidResponse(e.to_string())),
        401 => Err(HarvestError::Unauthorized),
        s => Err(HarvestError::Rejected { status: s, message: crate::error::body_message(&body) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_test_vector_round_trips() {
        let verifier = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        assert_eq!(challenge.as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn the_authorization_url_carries_state_pkce_and_the_loopback_redirect() {
        let app =
            OAuthApp { client_id: "abc".into(), client_secret: SecretString::from("s3cret".to_owned()) };
        let auth =
            authorize("https://id.getharvest.com", &app, "http://127.0.0.1:47823/callback").expect("url");
        let pairs: std::collections::HashMap<_, _> = auth.url.query_pairs().into_owned().collect();
        assert_eq!(auth.url.path(), "/oauth2/authorize");
        assert_eq!(pairs.get("response_type").map(String::as_str), Some("code"));
        assert_eq!(pairs.get("client_id").map(String::as_str), Some("abc"));
        assert_eq!(pairs.get("redirect_uri").map(String::as_str), Some("http://127.0.0.1:47823/callback"));
        assert_eq!(pairs.get("code_challenge_method").map(String::as_str), Some("S256"));
        assert!(pairs.get("state").is_some_and(|s| s.len() >= 22), "state has at least 128 bits");
        assert!(!auth.url.as_str().contains("s3cret"), "the secret never goes in the URL");
        let verifier = auth.verifier.secret();
        assert!(
            (43..=128).contains(&verifier.len())
                && verifier.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)),
            "the verifier follows RFC 7636 §4.1"
        );
    }

    #[test]
    fn the_account_comes_from_a_single_harvest_scope() {
        assert_eq!(account_from_scope("harvest:1234567"), Some(1_234_567));
        assert_eq!(account_from_scope("harvest:1 forecast:2"), Some(1));
        assert_eq!(
            account_from_scope("harvest:1 harvest:2"),
            None,
            "several accounts: ask the accounts endpoint"
        );
        assert_eq!(account_from_scope("all"), None);
    }
}
