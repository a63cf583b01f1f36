//! Every failure the host answers over HTTP, mapped to its SCIM error (status, `scimType`,
//! `Retry-After`) in this one file: connector errors, per-entry export results, and the
//! host's own conditions (unknown application, bad token, not ready, timeout, body size).
//! Connector authors read this table to know what Entra will see for each error they return.

use ecma_scim::ScimError;
use plugin_api::model::{ConnectorError, ErrorKind, ExportErrorCode, ExportResult};

/// The 503 detail Entra shows while the first import runs (Microsoft's wording).
pub const IMPORTING_MESSAGE: &str =
    "The ECMA host is currently importing data from the target application";

/// Entra retries 503s; 30 s is well inside its 60 s budget per cycle step.
pub const RETRY_AFTER_SECS: u32 = 30;

/// Maps a whole-call connector failure to the SCIM answer.
pub fn connector_error_to_scim(e: &ConnectorError) -> ScimError {
    match e.kind {
        ErrorKind::Connection | ErrorKind::Cancelled => ScimError::unavailable(
            format!("the target application is unavailable: {}", e.message),
            Some(RETRY_AFTER_SECS),
        ),
        ErrorKind::InvalidInput => ScimError::invalid_value(e.message.clone()),
        ErrorKind::Unsupported => ScimError::not_implemented(e.message.clone()),
        ErrorKind::Panicked => ScimError::internal(format!("the connector failed: {}", e.message)),
        ErrorKind::Config | ErrorKind::Internal | ErrorKind::FullImportRequired => {
            ScimError::internal(e.message.clone())
        }
    }
}

/// Maps a per-entry export result to the SCIM answer (Ok for success).
pub fn export_result_to_scim(r: &ExportResult) -> Result<(), ScimError> {
    let detail = if r.error_detail.is_empty() {
        r.code.ecma_name().to_owned()
    } else {
        format!(
            "{}: {}",
            if r.error_name.is_empty() {
                r.code.ecma_name()
            } else {
                &r.error_name
            },
            r.error_detail
        )
    };
    use ExportErrorCode as C;
    Err(match r.code {
        C::Success => return Ok(()),
        C::ConnectedDirectoryMissingObject => ScimError::not_found(detail),
        C::ConnectedDirectoryExistingObject => ScimError::uniqueness(detail),
        C::SyntaxViolation
        | C::InvalidDn
        | C::MissingAnchorComponent
        | C::MissingProvisioningAttribute
        | C::AnchorTooLong
        | C::ChangeNamingAttribute
        | C::AmbiguousUpdate => ScimError::invalid_value(detail),
        C::PermissionIssue => ScimError::forbidden(detail),
        C::ConnectedDirectoryError | C::RetryReferenceAttribute => {
            ScimError::unavailable(detail, Some(RETRY_AFTER_SECS))
        }
        C::ConvertUpdateToAdd | C::ProvisioningParent | C::CustomContinueRun | C::CustomStopRun => {
            ScimError::internal(detail)
        }
    })
}

/// A write to an application that does not export.
pub fn export_disabled(app: &str) -> ScimError {
    ScimError::forbidden(format!(
        "application '{app}' does not export (the export run profile is off or the connector cannot export)"
    ))
}

/// The connector's export answered without a result for the entry it was given.
pub fn no_export_result() -> ScimError {
    ScimError::internal("the connector returned no result for the exported entry")
}

/// An Add the connector reported as successful without the anchor the SCIM id comes from.
pub fn no_anchor_reported() -> ScimError {
    ScimError::internal("the connector created the object but reported no anchor")
}

/// A create whose anchor or matching attribute value another cached object already has
/// (Entra expects 409 `uniqueness`).
pub fn already_exists(resource_type: &str, attr: &str, value: &str) -> ScimError {
    ScimError::uniqueness(format!(
        "a {resource_type} with {attr} = {value:?} already exists"
    ))
}

/// A write to an id the cache does not hold.
pub fn no_such_object(resource_type: &str, id: &str) -> ScimError {
    ScimError::not_found(format!("{resource_type} {id} not found"))
}

/// A path outside every application's `/ecma2host_{name}/scim`.
pub fn no_such_endpoint(path: &str) -> ScimError {
    ScimError::not_found(format!(
        "no such endpoint: {path} (application endpoints are /ecma2host_{{name}}/scim)"
    ))
}

/// `/ecma2host_{name}/scim` for a name no application has.
pub fn no_such_application(name: &str) -> ScimError {
    ScimError::not_found(format!(
        "invalid resource: no application named '{name}' (the name is case-sensitive)"
    ))
}

/// A request without a bearer token, or with one that is not this application's.
pub fn bad_token(presented: bool) -> ScimError {
    ScimError::unauthorized(if presented {
        "the bearer token is not valid for this application"
    } else {
        "an Authorization: Bearer token is required"
    })
}

/// Too many failed authentications from the client's address: it is refused for
/// `retry_after_secs`, whatever it sends.
pub fn too_many_auth_failures(retry_after_secs: u64) -> ScimError {
    ScimError::too_many_requests(
        "too many failed authentications from this address; try again later",
        Some(u32::try_from(retry_after_secs).unwrap_or(u32::MAX)),
    )
}

/// `/metrics` without the configured `metrics_token`.
pub fn bad_metrics_token(presented: bool) -> ScimError {
    ScimError::unauthorized(if presented {
        "the bearer token is not valid for /metrics"
    } else {
        "/metrics requires an Authorization: Bearer token (host.metrics_token)"
    })
}

/// The application has not finished its first import; `last_failure` is the reason the last
/// attempt failed, when it is not running again right now.
pub fn not_ready(last_failure: Option<&str>) -> ScimError {
    let detail = match last_failure {
        Some(e) => {
            format!("{IMPORTING_MESSAGE} (the last attempt failed and is being retried: {e})")
        }
        None => IMPORTING_MESSAGE.to_owned(),
    };
    ScimError::unavailable(detail, Some(RETRY_AFTER_SECS))
}

/// The application is not set up yet (its target could not be reached) or cannot be (its
/// connector is not loaded); `reason` says why, `retry_in_secs` when the next attempt is due.
pub fn not_set_up(reason: &str, retry_in_secs: Option<u64>) -> ScimError {
    let retry = retry_in_secs
        .map(|s| (s.max(1) as u32).min(RETRY_AFTER_SECS))
        .unwrap_or(RETRY_AFTER_SECS);
    ScimError::unavailable(
        format!("the application is not available yet: {reason}"),
        Some(retry),
    )
}

/// The application is starting: its first setup attempt is running.
pub fn starting() -> ScimError {
    ScimError::unavailable(
        "the application is starting (checking its configuration with the target)",
        Some(5),
    )
}

/// A write that outlived the host's request time limit; the export runs on and still updates
/// the cache, so Entra's retry sees the outcome.
pub fn request_timeout(secs: u64) -> ScimError {
    ScimError::unavailable(
        format!(
            "the request took longer than {secs} s; the target may be slow (a change is still being applied)"
        ),
        Some(RETRY_AFTER_SECS),
    )
}

/// A request body larger than `host.max_body_bytes`.
pub fn body_too_large(limit: usize) -> ScimError {
    ScimError::payload_too_large(format!("the request body exceeds {limit} bytes"))
}

/// The request body could not be read from the connection.
pub fn unreadable_body(e: impl std::fmt::Display) -> ScimError {
    ScimError::invalid_syntax(format!("cannot read the request body: {e}"))
}

/// The cache dump is switched off in the configuration.
pub fn cache_dump_disabled() -> ScimError {
    ScimError::not_found("the cache dump is disabled (host.cache_dump)")
}

/// The task running a write failed (panicked or was cancelled).
pub fn write_task_failed(e: impl std::fmt::Display) -> ScimError {
    ScimError::internal(format!("the request failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_codes_map_to_http_statuses() {
        let r = |code| ExportResult::failure("x", code, "the target said no");
        let status = |code| export_result_to_scim(&r(code)).unwrap_err().status;
        assert!(export_result_to_scim(&ExportResult::success("x")).is_ok());
        assert_eq!(
            status(ExportErrorCode::ConnectedDirectoryMissingObject),
            404
        );
        assert_eq!(
            status(ExportErrorCode::ConnectedDirectoryExistingObject),
            409
        );
        assert_eq!(status(ExportErrorCode::SyntaxViolation), 400);
        assert_eq!(status(ExportErrorCode::PermissionIssue), 403);
        let e = export_result_to_scim(&r(ExportErrorCode::ConnectedDirectoryError)).unwrap_err();
        assert_eq!((e.status, e.retry_after_secs), (503, Some(30)));
        assert!(e.detail.contains("the target said no"));
        let e = connector_error_to_scim(&ConnectorError::connection("refused"));
        assert_eq!(e.status, 503);
    }

    #[test]
    fn host_conditions_map_to_http_statuses() {
        assert_eq!(no_such_application("x").status, 404);
        assert_eq!(bad_token(true).status, 401);
        assert_eq!(bad_token(false).status, 401);
        let e = not_ready(Some("refused"));
        assert_eq!((e.status, e.retry_after_secs), (503, Some(30)));
        assert!(e.detail.contains("refused"));
        assert_eq!(request_timeout(50).status, 503);
        assert_eq!(body_too_large(10).status, 413);
        let e = too_many_auth_failures(42);
        assert_eq!((e.status, e.retry_after_secs), (429, Some(42)));
        assert_eq!(bad_metrics_token(false).status, 401);
    }
}
