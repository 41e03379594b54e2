// SPDX-License-Identifier: MIT OR Apache-2.0
//! Unit tests of the protocol modules together: framing, the encoder and
//! both protocols' decoders through the dispatcher; and of the socket.

mod framing;
mod genl;
mod socket;
