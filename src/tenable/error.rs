//! Tenable's answers turned into typed errors, and the messages a gateway admin reads.
//!
//! Both platforms report errors in their own shapes: TVM uses Hapi/Boom bodies
//! (`{"statusCode","error","message"}`) or `{"error": "..."}` and sometimes HTML (a 429 from
//! its edge); SC wraps everything in an envelope with `error_code` and `error_msg`, usually
//! with HTTP 403, whatever the cause. [`classify`] reads whichever is there, leniently, and
//! decides from the platform, the status, SC's `error_code` ([`SC_ERROR_CODES`]) and what was
//! asked ([`Asked`]): a 404 on a read is "not found" with the object named, a 403 with SC's
//! code 12 is "keys refused" whatever the request, and only a refusal of a *change* can be
//! "rejected". Tenable's text is untrusted: redacted, escaped and cut to one short field.

use crate::secret::Redactor;
use crate::transport::{Reply, TransportError};
use crate::untrusted;

use super::Platform;

/// Formats an optional request id as `, request <id>`.
fn rid(id: &Option<String>) -> String {
    id.as_ref()
        .map(|i| format!(", request {i}"))
        .unwrap_or_default()
}

fn msg(message: &Option<String>) -> String {
    message
        .as_ref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

/// A failure talking to Tenable, or Tenable saying no.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenableError {
    /// Below HTTP: URL, trust, connection, timeout, deadline, size bounds.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// 401, or SC's "invalid token" (code 12), or SC refusing the keys on the first call.
    #[error(
        "{platform} refused the API keys (HTTP {status}{}{}); check tenable_access_key and tenable_secret_key, and that their user is enabled",
        msg(message),
        rid(request_id)
    )]
    KeysRefused {
        /// Platform.
        platform: Platform,
        /// HTTP status.
        status: u16,
        /// Tenable's message, when it said one.
        message: Option<String>,
        /// Tenable's request id.
        request_id: Option<String>,
    },
    /// The keys work but their user may not do this.
    #[error(
        "{platform} refused {operation} for lack of rights (HTTP {status}{}{}); give the API keys' user the rights it needs (Administrator on Vulnerability Management, Can Edit on a credential, on Security Center a role that manages the user's group)",
        msg(message),
        rid(request_id)
    )]
    Forbidden {
        /// Platform.
        platform: Platform,
        /// What was attempted, e.g. "the user list".
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// Tenable's message.
        message: Option<String>,
        /// Tenable's request id.
        request_id: Option<String>,
    },
    /// Nothing matched the name, or Tenable answered 404 for the object.
    #[error("no {platform} {kind} matches '{name}'{hint}")]
    NotFound {
        /// Platform.
        platform: Platform,
        /// "user" or "credential".
        kind: &'static str,
        /// The name looked for, made safe to print.
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
        /// The name looked for, made safe to print.
        name: String,
        /// The matches, quoted and capped.
        found: String,
        /// What to do.
        hint: &'static str,
    },
    /// Tenable refused the change itself (policy, history, wrong current password).
    #[error(
        "{platform} rejected the new password for {target} (HTTP {status}{}{}); the password policy (length, character classes, reuse of an earlier password) or a wrong current password are the usual causes: match the PAM User's password complexity in Keeper to Tenable's policy, or set the Tenable password to the vault's current one, then rotate again",
        msg(message),
        rid(request_id)
    )]
    Rejected {
        /// Platform.
        platform: Platform,
        /// What was being changed, e.g. "user 'alice'".
        target: String,
        /// HTTP status.
        status: u16,
        /// Tenable's message, made safe to print.
        message: Option<String>,
        /// Tenable's request id.
        request_id: Option<String>,
    },
    /// The credential's type has no password setting we know how to change.
    #[error(
        "{platform} credential '{name}' is of type '{kind}', which has no password setting to rotate; point tenable_credential_name at a credential that holds a password"
    )]
    NoPasswordField {
        /// Platform.
        platform: Platform,
        /// Credential name.
        name: String,
        /// Credential type.
        kind: String,
    },
    /// An id in Tenable's answer is not the shape Tenable uses for that object; it is never
    /// put in a request.
    #[error(
        "{platform} sent a {kind} id that is not the shape it uses ({expected}): '{id}'; the answer cannot be trusted, so nothing was sent with it"
    )]
    BadId {
        /// Platform.
        platform: Platform,
        /// "user" or "credential".
        kind: &'static str,
        /// The id, made safe to print.
        id: String,
        /// The shape expected.
        expected: &'static str,
    },
    /// Any other status.
    #[error(
        "{platform} answered {operation} with HTTP {status}{}{}; Tenable is failing or something in between refused the request: check Tenable's status and any proxy, then run again",
        msg(message),
        rid(request_id)
    )]
    Unexpected {
        /// Platform.
        platform: Platform,
        /// What was attempted.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// Tenable's message, made safe to print.
        message: Option<String>,
        /// Tenable's request id.
        request_id: Option<String>,
    },
    /// An answer whose body is not what that request returns.
    #[error(
        "{platform} answered {operation} with HTTP {status} and a body that is not the expected JSON{}{}; check that the URL points at Tenable itself (not a login page or a proxy's), then run again",
        detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default(),
        rid(request_id)
    )]
    Unreadable {
        /// Platform.
        platform: Platform,
        /// What was attempted.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// What was missing, when known.
        detail: Option<&'static str>,
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
        TenableError::Unreadable {
            platform,
            operation,
            status: reply.status,
            detail: None,
            request_id: reply.request_id.clone(),
        }
    }

    /// Whether this answer to a password change proves that the change was not applied:
    /// Tenable refused it (a 4xx it chose to send, other than 408 and 429, or an SC error
    /// code), or it was never sent. A 408, 429, any 5xx, a lost answer or an unreadable one
    /// prove nothing (issue 10, rows 5 and 6).
    pub fn proves_not_applied(&self) -> bool {
        match self {
            TenableError::Transport(t) => t.delivery() == crate::transport::Delivery::NotSent,
            TenableError::KeysRefused { .. }
            | TenableError::Forbidden { .. }
            | TenableError::NotFound { .. }
            | TenableError::Ambiguous { .. }
            | TenableError::Rejected { .. }
            | TenableError::NoPasswordField { .. }
            | TenableError::BadId { .. } => true,
            TenableError::Unexpected { status, .. } => {
                (400..500).contains(status) && !matches!(status, 408 | 429)
            }
            TenableError::Unreadable { .. } => false,
        }
    }

    /// Whether Tenable said "not now" (429, 503): the one case where a change proved not
    /// applied by a check may be sent once more.
    pub fn is_not_now(&self) -> bool {
        matches!(
            self,
            TenableError::Unexpected {
                status: 429 | 503,
                ..
            }
        )
    }
}

/// What a request was, which decides what an error answer means.
#[derive(Debug, Clone, Copy)]
pub enum Asked<'a> {
    /// A read. `object` is the kind and name of the one object read, when there is one: a 404
    /// then means that object is not found.
    Read {
        /// Kind ("user", "credential") and name.
        object: Option<(&'static str, &'a str)>,
    },
    /// A password change of the named object.
    Change {
        /// Kind ("user", "credential").
        kind: &'static str,
        /// Its name.
        name: &'a str,
    },
}

/// What one of Security Center's `error_code`s means to a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScMeaning {
    /// The API keys (or a session token) are not accepted: exit 3.
    KeysRefused,
    /// The object does not exist, or the API user cannot see it: exit 4.
    NotFound,
    /// Read by the message: rights ("permission", "access") are exit 3; otherwise a refused
    /// change is exit 5 and a refused read exit 6.
    ByMessage,
}

/// Security Center's error codes, as far as public recordings and clients show them
/// (shared/reference and /work research notes; README's exit-code table follows this).
/// Codes not listed are read [`ScMeaning::ByMessage`]. SC sends no public code for a wrong
/// current password or a policy violation: those arrive as an unlisted code on a change, so
/// they are "rejected" (exit 5), and a login with the new password then tells whether an
/// earlier run already set it. A wrong guess here can cost an accurate message, never a
/// false success: success is only ever reported from a 2xx with code 0 or a login.
pub const SC_ERROR_CODES: &[(i64, ScMeaning, &str)] = &[
    (
        12,
        ScMeaning::KeysRefused,
        "\"This request contains an invalid token.\" (recorded: test_system_current_locale)",
    ),
    (
        146,
        ScMeaning::ByMessage,
        "invalid parameters, and also \"does not have access\" (pyTenable analysis docs, issue 917)",
    ),
    (
        147,
        ScMeaning::NotFound,
        "\"Unable to find ... does not exist.\" (recorded: test_policies_delete, test_scans_delete)",
    ),
];

/// Words in a message that mean the keys' user lacks a right.
const RIGHTS_WORDS: [&str; 6] = [
    "permission",
    "not authorized",
    "unauthorized",
    "insufficient",
    "does not have access",
    "not allowed",
];

/// The error code in an SC envelope, if the body is one.
pub fn sc_error_code(body: &[u8]) -> Option<i64> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = json.get("error_code")?;
    code.as_i64()
        .or_else(|| code.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Classifies a non-2xx reply (or a 2xx SC envelope with a non-zero `error_code`).
pub fn classify(
    platform: Platform,
    operation: &'static str,
    reply: &Reply,
    redactor: &Redactor,
    asked: Asked<'_>,
) -> TenableError {
    let message = error_message(platform, &reply.body, redactor);
    let request_id = reply.request_id.clone();
    let status = reply.status;
    let not_found = |kind: &'static str, name: &str| TenableError::NotFound {
        platform,
        kind,
        name: untrusted::field(name),
        hint: "; Tenable answered that it does not exist (it may have been removed, or the API keys' user cannot see it)",
    };
    let object = match asked {
        Asked::Read { object } => object,
        Asked::Change { kind, name } => Some((kind, name)),
    };
    let rights = |m: &Option<String>| {
        m.as_deref().is_some_and(|m| {
            let lower = m.to_ascii_lowercase();
            RIGHTS_WORDS.iter().any(|w| lower.contains(w))
        })
    };
    if status == 401 {
        return TenableError::KeysRefused {
            platform,
            status,
            message,
            request_id,
        };
    }
    let sc_code = match platform {
        Platform::Sc => sc_error_code(&reply.body).filter(|c| *c != 0),
        Platform::Vm => None,
    };
    if let Some(code) = sc_code {
        let meaning = SC_ERROR_CODES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or(ScMeaning::ByMessage, |(_, m, _)| *m);
        // A 5xx, 408 or 429 with an envelope is still SC failing or busy, not SC refusing: the
        // status decides (found by the fault matrix: a 429 envelope read as a refusal).
        if status < 500 && !matches!(status, 408 | 429) {
            match meaning {
                ScMeaning::KeysRefused => {
                    return TenableError::KeysRefused {
                        platform,
                        status,
                        message,
                        request_id,
                    };
                }
                ScMeaning::NotFound => {
                    if let Some((kind, name)) = object {
                        return not_found(kind, name);
                    }
                }
                ScMeaning::ByMessage if rights(&message) => {
                    return TenableError::Forbidden {
                        platform,
                        operation,
                        status,
                        message,
                        request_id,
                    };
                }
                ScMeaning::ByMessage => {
                    if let Asked::Change { kind, name } = asked {
                        return TenableError::Rejected {
                            platform,
                            target: format!("{kind} '{}'", untrusted::field(name)),
                            status,
                            message: message.map(|m| format!("SC error {code}: {m}")),
                            request_id,
                        };
                    }
                }
            }
        }
    }
    match (status, asked) {
        (403, _) => TenableError::Forbidden {
            platform,
            operation,
            status,
            message,
            request_id,
        },
        (404, _) if object.is_some() => {
            let (kind, name) = object.unwrap_or(("object", ""));
            not_found(kind, name)
        }
        (400 | 409 | 412 | 422, Asked::Change { kind, name }) => TenableError::Rejected {
            platform,
            target: format!("{kind} '{}'", untrusted::field(name)),
            status,
            message,
            request_id,
        },
        _ => TenableError::Unexpected {
            platform,
            operation,
            status,
            message,
            request_id,
        },
    }
}

/// The most useful line of an error body: SC's `error_msg`, TVM's `message` or `error`, else
/// the text itself if it looks like text. Redacted, escaped, one line, one short field.
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
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Screened as it will be shown, escapes included: the `answers` fuzz target found a
    // message whose control character, escaped as `\u{6}`, put a backslash where a secret
    // has one, next to seven of its bytes.
    let shown = untrusted::field(&redactor.redact(&one_line));
    if redactor.quotes_secret(&shown) {
        return Some("(withheld: it quoted a secret)".into());
    }
    Some(shown)
}

/// The shapes Tenable uses for ids, checked before an id goes into a request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdShape {
    /// Decimal digits (TVM user ids, every SC id).
    Number,
    /// A UUID (TVM credential ids).
    Uuid,
}

impl IdShape {
    fn describe(self) -> &'static str {
        match self {
            IdShape::Number => "a number",
            IdShape::Uuid => "a UUID",
        }
    }

    fn fits(self, id: &str) -> bool {
        match self {
            IdShape::Number => {
                (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
            }
            IdShape::Uuid => {
                id.len() == 36
                    && id.bytes().enumerate().all(|(i, b)| match i {
                        8 | 13 | 18 | 23 => b == b'-',
                        _ => b.is_ascii_hexdigit(),
                    })
            }
        }
    }
}

/// `id` as one percent-encoded path segment, if it has `shape`; else the error that names it
/// (issue 10, row 3: `7/../../admin/9`, `7?x=1&`, `7#` never reach a path).
pub fn path_id(
    platform: Platform,
    kind: &'static str,
    shape: IdShape,
    id: &str,
) -> Result<String, TenableError> {
    if !shape.fits(id) {
        return Err(TenableError::BadId {
            platform,
            kind,
            id: untrusted::field(id),
            expected: shape.describe(),
        });
    }
    // Encoding cannot change a valid id; it is kept so that no path is ever built raw.
    Ok(url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20"))
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

    const READ: Asked<'static> = Asked::Read { object: None };
    const CHANGE: Asked<'static> = Asked::Change {
        kind: "user",
        name: "alice",
    };

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
            CHANGE,
        );
        let text = err.to_string();
        assert!(!text.contains("Sup3r"), "{text}");
        assert!(
            text.contains("[REDACTED]") && text.contains("request abc"),
            "{text}"
        );
    }

    #[test]
    fn a_message_is_screened_as_it_is_shown_with_its_escapes() {
        // The `answers` fuzz target's find: Tenable's text holds seven bytes of a secret
        // (`ET"` and `mark` around a backslash, which the screen's JSON decoding drops) and a
        // control character; escaped to be shown, that character starts with a backslash,
        // the secret's next byte.
        let mut r = Redactor::default();
        r.add(&Secret::from("SECRET\"mark\\er/é%+1"));
        let body = b"{\"error\":\"ET\\\"\\\\mark\\u0006 is refused\"}";
        assert_eq!(
            error_message(Platform::Vm, body, &r).as_deref(),
            Some("(withheld: it quoted a secret)")
        );
        // Without the control character nothing is escaped, and the text is shown.
        let body = b"{\"error\":\"ET\\\"\\\\mark is refused\"}";
        assert_eq!(
            error_message(Platform::Vm, body, &r).as_deref(),
            Some("ET\"\\mark is refused")
        );
    }

    #[test]
    fn maps_statuses_by_platform_and_what_was_asked() {
        let r = Redactor::default();
        let c = |p, status, body: &str, asked| classify(p, "x", &reply(status, body), &r, asked);
        assert!(matches!(
            c(Platform::Vm, 401, "{}", READ),
            TenableError::KeysRefused { .. }
        ));
        assert!(matches!(
            c(Platform::Vm, 403, "{}", CHANGE),
            TenableError::Forbidden { .. }
        ));
        assert!(matches!(
            c(Platform::Vm, 400, "{}", CHANGE),
            TenableError::Rejected { .. }
        ));
        assert!(matches!(
            c(Platform::Vm, 400, "{}", READ),
            TenableError::Unexpected { status: 400, .. }
        ));
        assert!(matches!(
            c(Platform::Vm, 503, "{}", CHANGE),
            TenableError::Unexpected { status: 503, .. }
        ));
        let credential = Asked::Read {
            object: Some(("credential", "Windows admin")),
        };
        let e = c(Platform::Vm, 404, "{}", credential);
        assert!(matches!(e, TenableError::NotFound { .. }), "{e}");
        assert!(e.to_string().contains("'Windows admin'"), "{e}");
    }

    #[test]
    fn security_center_is_read_by_error_code_not_status() {
        let r = Redactor::default();
        let env = |code: i64, text: &str| {
            format!(
                r#"{{"type":"regular","response":"","error_code":{code},"error_msg":"{text}"}}"#
            )
        };
        let c = |status, body: String, asked| {
            classify(Platform::Sc, "x", &reply(status, &body), &r, asked)
        };
        // Recorded: a 403 with code 12 is the keys, even on a change (issue 11, item 1).
        assert!(matches!(
            c(
                403,
                env(12, "This request contains an invalid token."),
                CHANGE
            ),
            TenableError::KeysRefused { .. }
        ));
        let user = Asked::Read {
            object: Some(("user", "bob")),
        };
        assert!(matches!(
            c(
                403,
                env(147, "Unable to find. User #9 does not exist."),
                user
            ),
            TenableError::NotFound { .. }
        ));
        assert!(matches!(
            c(
                403,
                env(146, "Group #0 does not have access to the Repository"),
                CHANGE
            ),
            TenableError::Forbidden { .. }
        ));
        let e = c(403, env(999, "Password does not meet complexity"), CHANGE);
        assert!(matches!(e, TenableError::Rejected { .. }), "{e}");
        assert!(e.to_string().contains("SC error 999"), "{e}");
        assert!(matches!(
            c(403, env(999, "Something odd"), READ),
            TenableError::Forbidden { .. }
        ));
        assert!(matches!(
            c(500, env(999, "Internal"), CHANGE),
            TenableError::Unexpected { status: 500, .. }
        ));
        for busy in [408, 429] {
            let e = c(busy, env(500, "The server is unavailable"), CHANGE);
            assert!(matches!(e, TenableError::Unexpected { .. }), "{busy}: {e}");
            assert!(!e.proves_not_applied(), "{busy}");
        }
    }

    #[test]
    fn which_answers_prove_a_change_was_not_applied() {
        let r = Redactor::default();
        let c = |status| classify(Platform::Vm, "x", &reply(status, "{}"), &r, CHANGE);
        for status in [400, 401, 403, 404, 409, 422] {
            assert!(c(status).proves_not_applied(), "{status}");
        }
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(!c(status).proves_not_applied(), "{status}");
        }
        assert!(c(429).is_not_now() && c(503).is_not_now() && !c(500).is_not_now());
    }

    #[test]
    fn ids_must_have_tenables_shape() {
        let ok = |shape, id| path_id(Platform::Vm, "user", shape, id);
        assert_eq!(ok(IdShape::Number, "3170").unwrap(), "3170");
        assert!(ok(IdShape::Uuid, "f07267e2-2994-4293-900a-8acc9adaacd4").is_ok());
        let long = "9".repeat(21);
        for bad in ["7/../../admin/9", "7?x=1&", "7#", "", "-1", "1 2", &long] {
            let e = ok(IdShape::Number, bad).unwrap_err();
            assert!(matches!(e, TenableError::BadId { .. }), "{bad}");
            assert!(e.proves_not_applied());
        }
        assert!(ok(IdShape::Uuid, "f07267e2-2994-4293-900a-8acc9adaacd4/..").is_err());
        let shown = ok(IdShape::Number, "7\n\u{202e}x").unwrap_err().to_string();
        assert!(
            !shown.contains('\n') && !shown.contains('\u{202e}'),
            "{shown}"
        );
    }
}
