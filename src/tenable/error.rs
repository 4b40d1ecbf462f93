//! Tenable's answers turned into typed errors, and the messages a gateway admin reads.
//!
//! Both platforms report errors in their own shapes: TVM uses Hapi/Boom bodies
//! (`{"statusCode","error","message"}`) or `{"error": "..."}` and sometimes HTML (a 429 from
//! its edge); SC wraps everything in an envelope with `error_code` and `error_msg`, usually
//! with HTTP 403. [`classify`] reads whichever is there, leniently, and keeps the request id.
//! Tenable's text is redacted (any secret from the payload removed) and cut to one line.

use crate::secret::Redactor;
use crate::transport::{Reply, TransportError};

use super::Platform;

/// Formats an optional request id as `, request <id>`.
fn rid(id: &Option<String>) -> String {
    id.as_ref()
        .map(|i| format!(", request {i}"))
        .unwrap_or_default()
}

/// A failure talking to Tenable, or Tenable saying no.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenableError {
    /// Below HTTP: URL, trust, connection, timeout, deadline.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// 401, or SC refusing the keys on the first call.
    #[error(
        "{platform} refused the API keys (HTTP {status}{}); check tenable_access_key and tenable_secret_key, and that their user is enabled",
        rid(request_id)
    )]
    KeysRefused {
        /// Platform.
        platform: Platform,
        /// HTTP status.
        status: u16,
        /// Tenable's request id.
        request_id: Option<String>,
    },
    /// 403: the keys work but their user may not do this.
    #[error(
        "{platform} does not allow the API keys' user to {operation} (HTTP 403: {message}{}); give that user the Administrator role (or Can Edit on the credential)",
        rid(request_id)
    )]
    Forbidden {
        /// Platform.
        platform: Platform,
        /// What was attempted, e.g. "list users".
        operation: &'static str,
        /// Tenable's message.
        message: String,
        /// Tenable's request id.
        request_id: Option<String>,
    },
    /// Nothing matched the name.
    #[error("no {platform} {kind} matches '{name}'{hint}")]
    NotFound {
        /// Platform.
        platform: Platform,
        /// "user" or "credential".
        kind: &'static str,
        /// The name looked for.
        name: String,
        /// Advice, starting with "; ".
        hint: &'static str,
    },
    /// More than one thing matched the name.
    #[error("more than one {platform} {kind} matches '{name}' ({found}); {hint}")]
    Ambiguous {
        /// Platform.
        platform: Platform,
        /// "user" or "credential".
        kind: &'static str,
        /// The name looked for.
        name: String,
        /// The matches, quoted.
        found: String,
        /// What to do.
        hint: &'static str,
    },
    /// Tenable refused the change itself (policy, history, wrong current password).
    #[error(
        "{platform} rejected the new password for {target} (HTTP {status}: {message}{})",
        rid(request_id)
    )]
    Rejected {
        /// Platform.
        platform: Platform,
        /// What was being changed, e.g. "user 'alice'".
        target: String,
        /// HTTP status.
        status: u16,
        /// Tenable's message, redacted.
        message: String,
        /// Tenable's request id.
        request_id: Option<String>,
    },
    /// The credential's type has no password setting we know how to change.
    #[error(
        "{platform} credential '{name}' is of type '{kind}', which has no password setting to rotate"
    )]
    NoPasswordField {
        /// Platform.
        platform: Platform,
        /// Credential name.
        name: String,
        /// Credential type.
        kind: String,
    },
    /// Any other status, or an answer we could not read.
    #[error("{platform} answered {operation} with {status}{}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default(), rid(request_id))]
    Unexpected {
        /// Platform.
        platform: Platform,
        /// What was attempted.
        operation: &'static str,
        /// "HTTP 500", or "an unreadable body".
        status: String,
        /// Tenable's message, redacted.
        message: Option<String>,
        /// Tenable's request id.
        request_id: Option<String>,
    },
}

impl TenableError {
    /// An answer whose body is not the JSON expected.
    pub(crate) fn unreadable(
        platform: Platform,
        operation: &'static str,
        reply: &Reply,
    ) -> TenableError {
        TenableError::Unexpected {
            platform,
            operation,
            status: format!(
                "HTTP {} and a body that is not the expected JSON",
                reply.status
            ),
            message: None,
            request_id: reply.request_id.clone(),
        }
    }
}

/// Classifies a non-2xx reply (or a 2xx SC envelope with a non-zero `error_code`).
/// `write` says whether the request changed a password: then 400/409/422 (and SC's 403 with an
/// error code) mean Tenable rejected the change, not that the keys lack rights.
pub fn classify(
    platform: Platform,
    operation: &'static str,
    reply: &Reply,
    redactor: &Redactor,
    target: Option<&str>,
) -> TenableError {
    let message = error_message(platform, &reply.body, redactor);
    let request_id = reply.request_id.clone();
    let status = reply.status;
    match (status, target) {
        (401, _) => TenableError::KeysRefused {
            platform,
            status,
            request_id,
        },
        // SC reports a refused change as 403 + error_code; TVM uses 403 only for rights.
        (403, Some(target)) if platform == Platform::Sc => TenableError::Rejected {
            platform,
            target: target.to_owned(),
            status,
            message: message.unwrap_or_else(|| "no reason given".into()),
            request_id,
        },
        (403, _) => TenableError::Forbidden {
            platform,
            operation,
            message: message.unwrap_or_else(|| "Forbidden".into()),
            request_id,
        },
        (400 | 409 | 412 | 422, Some(target)) => TenableError::Rejected {
            platform,
            target: target.to_owned(),
            status,
            message: message.unwrap_or_else(|| "no reason given".into()),
            request_id,
        },
        _ => TenableError::Unexpected {
            platform,
            operation,
            status: format!("HTTP {status}"),
            message,
            request_id,
        },
    }
}

/// The most useful line of an error body: SC's `error_msg`, TVM's `message` or `error`, else
/// the text itself if it looks like text. Redacted, one line, at most 300 characters.
pub fn error_message(_platform: Platform, body: &[u8], redactor: &Redactor) -> Option<String> {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => ["error_msg", "message", "error"].iter().find_map(|k| {
            json.get(k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
        })?,
        Err(_) => {
            let raw = String::from_utf8_lossy(body);
            if raw.trim_start().starts_with('<') || raw.trim().is_empty() {
                return None; // an HTML error page says nothing an admin can use
            }
            raw.into_owned()
        }
    };
    let one_line: String = redactor
        .redact(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut cut: String = one_line.chars().take(300).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            request_id: Some("abc".into()),
            set_cookie: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn reads_each_error_shape() {
        let r = Redactor::default();
        let boom = br#"{"statusCode":404,"error":"Not Found","message":"Not Found"}"#;
        assert_eq!(
            error_message(Platform::Vm, boom, &r).as_deref(),
            Some("Not Found")
        );
        let plain = br#"{"error":"The username provided is not a part of the current Container's approved domains."}"#;
        assert!(
            error_message(Platform::Vm, plain, &r)
                .unwrap()
                .starts_with("The username provided")
        );
        let sc = b"{\"type\":\"regular\",\"response\":\"\",\"error_code\":147,\"error_msg\":\"Unable to find.\\nPolicy does not exist.\\n\"}";
        assert_eq!(
            error_message(Platform::Sc, sc, &r).as_deref(),
            Some("Unable to find. Policy does not exist.")
        );
        assert_eq!(error_message(Platform::Vm, b"<html>429</html>", &r), None);
    }

    #[test]
    fn redacts_secrets_echoed_by_tenable() {
        let mut r = Redactor::default();
        r.add(&Secret::from("Sup3r-Secret!"));
        let body = br#"{"statusCode":400,"error":"Bad Request","message":"password Sup3r-Secret! is too weak"}"#;
        let err = classify(
            Platform::Vm,
            "change the password",
            &reply(400, std::str::from_utf8(body).unwrap()),
            &r,
            Some("user 'a'"),
        );
        let text = err.to_string();
        assert!(!text.contains("Sup3r"), "{text}");
        assert!(
            text.contains("[REDACTED]") && text.contains("request abc"),
            "{text}"
        );
    }

    #[test]
    fn maps_statuses_by_platform_and_kind() {
        let r = Redactor::default();
        assert!(matches!(
            classify(Platform::Vm, "x", &reply(401, "{}"), &r, None),
            TenableError::KeysRefused { .. }
        ));
        assert!(matches!(
            classify(Platform::Vm, "x", &reply(403, "{}"), &r, Some("t")),
            TenableError::Forbidden { .. }
        ));
        assert!(matches!(
            classify(Platform::Sc, "x", &reply(403, "{}"), &r, Some("t")),
            TenableError::Rejected { .. }
        ));
        assert!(matches!(
            classify(Platform::Vm, "x", &reply(400, "{}"), &r, Some("t")),
            TenableError::Rejected { .. }
        ));
        assert!(matches!(
            classify(Platform::Vm, "x", &reply(400, "{}"), &r, None),
            TenableError::Unexpected { .. }
        ));
        assert!(matches!(
            classify(Platform::Vm, "x", &reply(503, "{}"), &r, Some("t")),
            TenableError::Unexpected { .. }
        ));
    }
}
