// SPDX-License-Identifier: MIT OR Apache-2.0
//! `send` and `echo`: one request, one reply printed escaped.

#![forbid(unsafe_code)]

use std::io::Write;
use std::time::Duration;

use crate::escape::Escaped;
use crate::transport::Request;
use crate::Payload;

use super::output::write_out;
use super::{net_error, Ctx, Error, Kind};

/// Sends `text` as `req` and prints the reply; an echo must match.
pub fn request(
    ctx: &Ctx<'_>,
    req: Request,
    text: &[u8],
    timeout: Duration,
    out: &mut impl Write,
) -> Result<(), Error> {
    let payload = Payload::new(text)?;
    let mut t = ctx.open()?;
    let endpoint = t.endpoint();
    ctx.probe.message_path();
    let reply = t.request(req, &payload, timeout).map_err(|e| match e {
        crate::Error::Timeout => Error::new(
            Kind::TempFail,
            format!("no reply from the kernel within {timeout:?} (netlink {endpoint})"),
        ),
        e => net_error(e, Some(&endpoint), &payload),
    })?;
    // Printed first, judged after: a closed stdout must not hide a bad echo.
    let printed = write_out(out, format_args!("{}\n", Escaped(&reply)));
    if req == Request::Echo && reply.as_bytes() != payload.as_bytes() {
        return Err(Error::new(
            Kind::Protocol,
            format!(
                "malformed reply: the echo ({} bytes) differs from the {} bytes sent",
                reply.len(),
                payload.len()
            ),
        ));
    }
    printed
}
