//! At debug level, one log line per SCIM exchange with its request and response bodies,
//! secrets redacted: what an administrator reaches for when Entra shows an error.
//!
//! Off the debug level the middleware only asks `tracing` whether the line is wanted.

use actix_web::body::{EitherBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_util::StreamExt;

use super::redact::loggable_body;

/// The `tracing` target of the body lines (`RUST_LOG=ecma_host::http::body=debug` alone).
pub const TARGET: &str = "ecma_host::http::body";

/// The most of one body a line shows.
const SHOWN_BYTES: usize = 16 * 1024;

/// The middleware (`actix_web::middleware::from_fn`); `max_body` is the request size limit,
/// past which the request body is passed on unread and not logged.
pub async fn log_bodies<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
    max_body: usize,
) -> Result<ServiceResponse<EitherBody<B, Bytes>>, actix_web::Error> {
    if !tracing::enabled!(target: TARGET, tracing::Level::DEBUG)
        || !req.path().starts_with("/ecma2host_")
    {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let mut payload = std::mem::replace(req.parts_mut().1, Payload::None);
    let mut read = Vec::new();
    let mut over_limit = false;
    while let Some(chunk) = payload.next().await {
        let chunk: Bytes = chunk?;
        read.extend_from_slice(&chunk);
        if read.len() > max_body {
            over_limit = true;
            break;
        }
    }
    let request = if over_limit {
        format!("(over {max_body} bytes: not logged)")
    } else {
        shown(loggable_body(&read))
    };
    // The handler reads exactly what the client sent: what was read here, then the rest.
    let head = futures_util::stream::once(async move { Ok::<_, PayloadError>(Bytes::from(read)) });
    let stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(head.chain(payload));
    req.set_payload(Payload::from(stream));

    let res = next.call(req).await?;
    let status = res.status().as_u16();
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (http_req, http_res) = res.into_parts();
    let (http_res, body) = http_res.into_parts();
    let bytes = to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into().to_string()))?;
    tracing::debug!(
        target: TARGET,
        request_id = %request_id,
        method = %method,
        path = %path,
        status,
        request = %request,
        response = %shown(loggable_body(&bytes)),
        "SCIM bodies"
    );
    let http_res = http_res.set_body(bytes);
    Ok(ServiceResponse::new(http_req, http_res).map_into_right_body())
}

/// A body cut to `SHOWN_BYTES` (a listing of thousands of users would flood the journal).
fn shown(mut text: String) -> String {
    if text.len() <= SHOWN_BYTES {
        return text;
    }
    let mut cut = SHOWN_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let more = text.len() - cut;
    text.truncate(cut);
    text.push_str(&format!("… ({more} more bytes)"));
    text
}
