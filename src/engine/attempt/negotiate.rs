//! The start of an attempt: which request to send (the whole file, the rest of a `.part`, the
//! first missing range of a split download) and what the answer means for the bytes on disk.
//! Anything that does not prove the server continues the very same version at the very
//! offset starts the file over: nothing is ever spliced from two versions. A `304` answers
//! only a request that asked "if modified since": it means the copy on disk is current.

use crate::engine::context::Ctx;
use crate::engine::failure::{AttemptError, failed};
use crate::engine::net::headers::{
    format_date, parse_content_range, parse_date, parse_unsatisfied_range,
};
use crate::engine::net::{
    Connection, checked, send, send_if_modified_since, send_range, status_failure,
};
use crate::engine::store::{self, Meta};
use crate::error::FailureKind;
use crate::plan::FileConfig;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, ETAG, LAST_MODIFIED};
use std::path::Path;
use std::time::SystemTime;

/// Where the body of this attempt goes.
#[allow(clippy::large_enum_variant)] // one short-lived value per attempt
pub(in crate::engine) enum Body {
    /// Stream `response` into the part from byte `start`; `meta` describes the resource.
    Stream {
        response: reqwest::Response,
        start: u64,
        total: Option<u64>,
        fresh_meta: Option<Meta>,
    },
    /// The part already holds the whole resource (a 416 that confirmed it), last modified
    /// at `last_modified` (what the saved metadata says).
    Complete {
        len: u64,
        http_status: u16,
        last_modified: Option<SystemTime>,
    },
    /// The server has nothing newer than the copy of the date asked about (`304`).
    NotModified,
}

/// A request for the whole resource; with `since`, only if it changed after that time.
pub(in crate::engine) async fn fresh(
    ctx: &Ctx,
    file: &FileConfig,
    url: &url::Url,
    since: Option<SystemTime>,
) -> Result<Body, AttemptError> {
    let response = match since.and_then(format_date) {
        Some(date) => {
            let response = send_if_modified_since(&ctx.net, file, url, &date).await?;
            if response.status() == StatusCode::NOT_MODIFIED {
                return Ok(Body::NotModified);
            }
            response
        }
        None => send(&ctx.net, file, url, None).await?,
    };
    stream_from_start(ctx, checked(response)?, url)
}

/// A response that is to be the whole file from its first byte. Only a `200 OK` is: any
/// other success (a `206` to a request that asked for no range, a `204`) would store
/// something else under the file's name.
fn stream_from_start(
    ctx: &Ctx,
    response: reqwest::Response,
    url: &url::Url,
) -> Result<Body, AttemptError> {
    if response.status() != StatusCode::OK {
        let status = response.status();
        let range = response
            .headers()
            .get(CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .map(|r| format!(" (Content-Range {:?})", crate::sanitize::sanitize(r)))
            .unwrap_or_default();
        return Err(failed(
            FailureKind::InvalidResponse,
            format!(
                "the server answered a request for the whole file with {}{range}",
                crate::engine::net::status_text(status)
            ),
        )
        .with_status(status.as_u16()));
    }
    let total = response.content_length();
    // Small files are cheaper to restart than to track, and a compressed transfer cannot be
    // resumed: byte ranges of an encoded body do not compose.
    let fresh_meta = match total {
        _ if ctx.config.compressed => None,
        Some(len) if len <= store::RESUME_MIN_BYTES => None,
        _ => meta_from_response(url, response.headers(), total),
    };
    Ok(Body::Stream {
        response,
        start: 0,
        total,
        fresh_meta,
    })
}

/// The validators of a fresh response, for a later resume; `None` when it has none.
fn meta_from_response(
    url: &url::Url,
    headers: &reqwest::header::HeaderMap,
    total: Option<u64>,
) -> Option<Meta> {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Meta::new(url, get(ETAG), get(LAST_MODIFIED), total)
}

/// A request for the rest of a `.part`, guarded by `If-Range`. Anything that does not prove
/// the server continues the very same resource at the very offset restarts from zero.
pub(in crate::engine) async fn resumed(
    ctx: &Ctx,
    file: &FileConfig,
    url: &url::Url,
    part: &Path,
    offset: u64,
    meta: Meta,
) -> Result<Body, AttemptError> {
    let response = send(&ctx.net, file, url, Some((offset, meta.if_range()))).await?;
    let status = response.status();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if status == StatusCode::PARTIAL_CONTENT {
        let range = header(CONTENT_RANGE)
            .as_deref()
            .and_then(parse_content_range);
        // A server may honour Range but ignore If-Range (RFC 9110 allows it): only a 206 that
        // names the very same version may be appended.
        let same_version = same_version(&meta, response.headers());
        match range {
            Some((first, _, total))
                if same_version
                    && first == offset
                    && (meta.total.is_none() || total == meta.total) =>
            {
                tracing::info!("resuming {} at byte {offset}", part.display());
                return Ok(Body::Stream {
                    response,
                    start: offset,
                    total: total.or(meta.total),
                    fresh_meta: None,
                });
            }
            _ => tracing::warn!(
                "{}: the server's answer to the resume (Content-Range {:?}, ETag {:?}) does not continue the same file; starting over",
                part.display(),
                header(CONTENT_RANGE).unwrap_or_default(),
                header(ETAG).unwrap_or_default()
            ),
        }
    } else if status == StatusCode::RANGE_NOT_SATISFIABLE {
        let total = header(CONTENT_RANGE)
            .as_deref()
            .and_then(parse_unsatisfied_range);
        let same = same_version(&meta, response.headers());
        if same && total.is_some() && total == meta.total && Some(offset) == meta.total {
            return Ok(Body::Complete {
                len: offset,
                http_status: status.as_u16(),
                last_modified: meta.last_modified.as_deref().and_then(parse_date),
            });
        }
        tracing::warn!(
            "{}: the server cannot resume it; starting over",
            part.display()
        );
    } else if status.is_success() {
        // Range ignored, or the validator no longer matches: this is the whole new resource.
        tracing::info!(
            "{}: the server sent the whole file; starting over",
            part.display()
        );
        forget_meta(part);
        return stream_from_start(ctx, response, url);
    } else {
        return Err(status_failure(response));
    }
    drop(response);
    forget_meta(part);
    fresh(ctx, file, url, None).await
}

/// The first request of a resumed split download: the first missing range, guarded by
/// `If-Range`. `Ok` carries the response (and where it starts) to continue the split with;
/// `Err` the body to use instead when the file must start over.
#[allow(clippy::type_complexity)]
pub(in crate::engine) async fn resumed_ranges(
    ctx: &Ctx,
    file: &FileConfig,
    url: &url::Url,
    part: &Path,
    meta: Meta,
) -> Result<Result<((reqwest::Response, u64), Meta), Body>, AttemptError> {
    let total = meta.total.unwrap_or(0);
    let from = super::pieces::first_hole(meta.done.as_deref().unwrap_or_default(), total);
    if from < total {
        let response = send_range(
            &ctx.net,
            Connection::Pooled,
            file,
            url,
            from,
            None,
            meta.if_range(),
        )
        .await?;
        let status = response.status();
        if status == StatusCode::PARTIAL_CONTENT {
            let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
            let range = header(CONTENT_RANGE).and_then(parse_content_range);
            if same_version(&meta, response.headers())
                && range.is_some_and(|(first, _, t)| first == from && t == Some(total))
            {
                tracing::info!("resuming the split download of {}", part.display());
                return Ok(Ok(((response, from), meta)));
            }
        } else if status.is_success() {
            forget_meta(part);
            return stream_from_start(ctx, response, url).map(Err);
        } else if status != StatusCode::RANGE_NOT_SATISFIABLE {
            return Err(status_failure(response));
        }
    }
    tracing::warn!(
        "{}: the server cannot continue the split download; starting over",
        part.display()
    );
    forget_meta(part);
    fresh(ctx, file, url, None).await.map(Err)
}

/// Whether a response names the same version as the saved metadata: when a strong ETag was
/// saved, the response must carry the same one; otherwise (the server sent none, or only a weak
/// one, which `Meta` does not keep) the Last-Modified dates must be equal. Anything else is
/// "changed".
pub(in crate::engine) fn same_version(meta: &Meta, headers: &reqwest::header::HeaderMap) -> bool {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match (&meta.etag, &meta.last_modified) {
        (Some(had), _) => get(ETAG) == Some(had.as_str()),
        (None, Some(had)) => get(LAST_MODIFIED) == Some(had.as_str()),
        (None, None) => false,
    }
}

/// The part is about to be rewritten from zero: its old metadata no longer describes it.
fn forget_meta(part: &Path) {
    store::forget_now(part);
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn meta(etag: Option<&str>, last_modified: Option<&str>) -> Meta {
        Meta {
            version: Meta::VERSION,
            url: "http://h/f".into(),
            etag: etag.map(Into::into),
            last_modified: last_modified.map(Into::into),
            total: Some(10),
            done: None,
            name: None,
        }
    }

    fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn versions_are_compared_by_the_validator_that_was_saved() {
        const LM: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
        const LATER: &str = "Sun, 06 Nov 1994 09:00:00 GMT";
        let strong = meta(Some("\"v1\""), Some(LM));
        assert!(same_version(
            &strong,
            &headers(&[(ETAG, "\"v1\""), (LAST_MODIFIED, LATER)])
        ));
        assert!(!same_version(
            &strong,
            &headers(&[(ETAG, "\"v2\""), (LAST_MODIFIED, LM)])
        ));
        assert!(!same_version(&strong, &headers(&[(LAST_MODIFIED, LM)])));
        // A weak ETag is not kept: the date decides, whatever ETag the server sends.
        let dated = meta(None, Some(LM));
        assert!(same_version(
            &dated,
            &headers(&[(ETAG, "W/\"x\""), (LAST_MODIFIED, LM)])
        ));
        assert!(same_version(&dated, &headers(&[(LAST_MODIFIED, LM)])));
        assert!(!same_version(&dated, &headers(&[(LAST_MODIFIED, LATER)])));
        assert!(!same_version(&dated, &headers(&[])));
        assert!(!same_version(
            &meta(None, None),
            &headers(&[(LAST_MODIFIED, LM)])
        ));
    }
}
