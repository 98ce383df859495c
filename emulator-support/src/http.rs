//! Response bodies and helpers both emulators answer with.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

/// A response body: whole, or streamed (a truncated one fails mid-way).
pub type Body = BoxBody<Bytes, std::io::Error>;

/// A whole body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A response with this status (500 if it is not one) and content type.
pub fn response(status: u16, content_type: &'static str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A `text/plain; charset=utf-8` response.
pub fn text_response(status: u16, text: impl Into<String>) -> Response<Body> {
    response(status, "text/plain; charset=utf-8", full(text.into()))
}

/// An admin route's JSON body as `T`; an empty body is `T::default()` when `empty_is_default`.
/// A body that is not a `T` gives the message for the `400` answer, naming `what` ("seed",
/// "faults").
pub fn admin_json<T: serde::de::DeserializeOwned + Default>(
    body: &[u8],
    what: &str,
    empty_is_default: bool,
) -> Result<T, String> {
    if empty_is_default && body.is_empty() {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| format!("invalid {what} JSON: {e}"))
}

/// Sends the headers and half the body, then fails the body so the connection is cut.
pub async fn truncate(resp: Response<Body>) -> Response<Body> {
    let (parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
        Ok(Frame::data(half)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection dropped (injected fault)",
        )),
    ];
    let mut resp = Response::from_parts(
        parts,
        StreamBody::new(futures::stream::iter(frames)).boxed(),
    );
    resp.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    resp
}
