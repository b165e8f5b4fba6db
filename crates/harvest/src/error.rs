//! What can go wrong talking to Harvest, in words a user can act on.

use std::time::Duration;

/// A failed Harvest call. Callers branch on the variant (retry, reconnect,
/// show the message); `Display` is written for the person at the keyboard.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HarvestError {
    #[error(
        "Harvest refused the access token (expired, revoked or invalid); reconnect with `tickettime connect`"
    )]
    Unauthorized,
    #[error(
        "the Harvest session expired and could not be renewed ({0}); reconnect with `tickettime connect`"
    )]
    ReconnectNeeded(String),
    #[error("your Harvest role does not allow this{}", detail(.0))]
    Forbidden(String),
    #[error("not found in Harvest (or you have no access to it){}", detail(.0))]
    NotFound(String),
    #[error("Harvest refused the request: {0}")]
    Validation(String),
    #[error("Harvest rejected the request (HTTP {status}){}", detail(.message))]
    Rejected { status: u16, message: String },
    #[error("Harvest is rate limiting this app; try again in {} s", .retry_after.as_secs().max(1))]
    RateLimited { retry_after: Duration },
    #[error("Harvest is down or unreachable: {0}")]
    Unavailable(String),
    /// The request may or may not have reached Harvest (timeout or reset after
    /// sending). Never blindly re-send a create after this.
    #[error("no answer from Harvest (the request may or may not have been applied): {0}")]
    Ambiguous(String),
    #[error("Harvest sent an answer this app cannot read: {0}")]
    InvalidResponse(String),
    #[error("Harvest's answer is larger than {} MiB; it was not read", .limit / (1024 * 1024))]
    TooLarge { limit: usize },
    #[error("the Harvest sign-in failed: {0}")]
    OAuth(String),
}

fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl HarvestError {
    /// Worth another try later without the user changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HarvestError::RateLimited { .. } | HarvestError::Unavailable(_) | HarvestError::Ambiguous(_)
        )
    }
}

/// The message of a Harvest error body. There is no single envelope: the
/// recorded shapes are `{"message"}`, `{"error","error_description"}` and
/// `{"status","error"}`; a 429 body is empty HTML.
pub(crate) fn body_message(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return String::new();
    };
    ["message", "error_description", "error"]
        .iter()
        .find_map(|key| value.get(key).and_then(|v| v.as_str()))
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recorded_error_body_shape_yields_its_message() {
        assert_eq!(
            body_message(r#"{"message":"Project can't be blank, Task can't be blank"}"#),
            "Project can't be blank, Task can't be blank"
        );
        assert_eq!(
            body_message(
                r#"{"error":"invalid_token","error_description":"The access token provided is expired"}"#
            ),
            "The access token provided is expired"
        );
        assert_eq!(body_message(r#"{"status":404,"error":"Not Found"}"#), "Not Found");
        assert_eq!(body_message(""), "", "an empty 429 body is not JSON and is not parsed as such");
        assert_eq!(body_message("<html>oops</html>"), "");
    }
}
