//! The local control socket: how the other commands use a node that `puente run` keeps
//! running, instead of opening the store themselves (which the node's lock on the store
//! prevents anyway).
//!
//! # Where and who
//! `<data-dir>/puente.sock`, a Unix domain socket bound by `puente run`, mode 0600 inside the
//! 0700 data directory, removed when the node stops cleanly. The node serves each connection on
//! its own task and first checks the connecting process's user id (`SO_PEERCRED`): anyone but
//! the owner of the data directory is disconnected without an answer. A client only connects
//! after the data directory passed the same privacy check as a direct open, so nobody else
//! could have put the socket there.
//!
//! # Protocol (version 1)
//! One request per connection. Every message is a frame: a `u32` big-endian length, then that
//! many bytes of JSON.
//! - Request (client to node), at most [`MAX_REQUEST_BYTES`] (refused from the length prefix,
//!   before anything is allocated):
//!   `{"version": 1, "args": [...], "cwd": "/abs/dir", "now": 1795366800}`: the arguments
//!   after the binary name (global flags included: the node writes only what `--quiet`
//!   leaves, and in the `--format` asked for), the client's working directory (relative file
//!   paths of `import`, `export --output` and the like are resolved against it) and the
//!   client's "now" in Unix seconds (so `PUENTE_NOW` works the same through the socket), and
//!   optionally `"lang": "es"`, the language of the client's environment, which the answer's
//!   messages are written in.
//! - Response (node to client): any number of `{"stdout": "..."}` and `{"stderr": "..."}`
//!   frames, in the order the command wrote them, each at most [`TEXT_CHUNK_BYTES`] of text,
//!   then exactly one `{"exit": 0|1|2|3, "error": "one line" | null}`, and the node closes the
//!   connection. Exit 2 is a usage error, 3 a command's own documented status (`hold place`:
//!   placed but overbooked), 1 any other failure.
//!
//! The node parses `args` with the same clap definition as the binary and runs the same
//! command function on its own replica (see [`crate::context::Ctx::served`]); changes are
//! pushed to connected peers right after. `init` and `run` are refused (a node already runs
//! there). A malformed, oversized or unsupported request gets a final frame with exit 2 and
//! the connection is closed; the node carries on.
//!
//! What is deliberately absent: no authentication beyond the user id (the socket is as private
//! as the store's files), no streaming of a command's text while it runs (a command is short
//! and holds the node's replica anyway), no terminal on the node's side (the client asks any
//! confirmation itself and forwards the equivalent of `--yes`).
//!
//! Boundary: this module moves frames and knows the socket's path; what a command does is in
//! [`crate::commands`].

pub mod client;
pub mod server;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The socket's file name inside the data directory.
pub const SOCKET_FILE: &str = "puente.sock";

/// The protocol version in every request; a node refuses any other.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest request accepted: a command line is at most a few kilobytes, so 1 MiB leaves a wide
/// margin and still bounds what a confused or hostile client makes the node allocate.
pub const MAX_REQUEST_BYTES: u32 = 1024 * 1024;

/// Largest response frame a client accepts: a text chunk of [`TEXT_CHUNK_BYTES`] escaped as
/// JSON (at most six bytes per byte for control characters) fits well below 1 MiB.
pub const MAX_RESPONSE_BYTES: u32 = 1024 * 1024;

/// Text is sent in frames of at most this many bytes, so a large export streams in pieces
/// that each stay far below [`MAX_RESPONSE_BYTES`].
pub const TEXT_CHUNK_BYTES: usize = 64 * 1024;

/// The control socket of the data directory `dir`.
pub fn socket_path(dir: &Path) -> PathBuf {
    dir.join(SOCKET_FILE)
}

/// A request: one command for the node to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// [`PROTOCOL_VERSION`].
    pub version: u32,
    /// The arguments after the binary name.
    pub args: Vec<String>,
    /// The client's working directory (absolute).
    pub cwd: String,
    /// The client's "now", Unix seconds.
    pub now: i64,
    /// The language the client speaks (`en`, `es`), so errors and messages come back in it;
    /// absent from older clients, which means English.
    #[serde(default)]
    pub lang: Option<String>,
}

/// One frame of a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Response {
    /// Text for the client's standard output.
    Stdout {
        /// The text.
        stdout: String,
    },
    /// Text for the client's standard error.
    Stderr {
        /// The text.
        stderr: String,
    },
    /// The last frame: the exit status and, on failure, the one-line error.
    Exit {
        /// 0 success, 1 failure, 2 usage error.
        exit: u8,
        /// The error line (without `error: `), or `null`.
        error: Option<String>,
    },
}

/// `value` as a frame: length prefix and JSON.
pub fn frame(value: &impl Serialize) -> Vec<u8> {
    // Serialising these plain structs cannot fail: no maps with non-string keys, no custom
    // serialisers.
    let json = serde_json::to_vec(value).unwrap_or_default();
    let len = u32::try_from(json.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(4 + json.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&json);
    out
}

/// Splits `text` into pieces of at most [`TEXT_CHUNK_BYTES`] bytes, on character boundaries.
pub fn chunks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while rest.len() > TEXT_CHUNK_BYTES {
        let mut cut = TEXT_CHUNK_BYTES;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// The length a frame's prefix claims, refused when it is over `max`: every reader checks it
/// here, before it allocates anything.
pub fn frame_length(prefix: [u8; 4], max: u32) -> io::Result<usize> {
    let len = u32::from_be_bytes(prefix);
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            t!("err-server-frame-too-large", len = len, max = max),
        ));
    }
    Ok(len as usize)
}

/// Reads one frame of at most `max` bytes (the client's blocking reader); `None` at a clean
/// end of stream before a frame.
pub fn read_frame(r: &mut impl Read, max: u32) -> io::Result<Option<Vec<u8>>> {
    let mut prefix = [0u8; 4];
    match r.read_exact(&mut prefix) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut buf = vec![0u8; frame_length(prefix, max)?];
    r.read_exact(&mut buf)?;
    Ok(Some(buf))
}

/// [`read_frame`] for the node's side of the socket, which serves connections as tasks.
pub async fn read_frame_async(
    r: &mut (impl tokio::io::AsyncRead + Unpin),
    max: u32,
) -> io::Result<Option<Vec<u8>>> {
    use tokio::io::AsyncReadExt as _;
    let mut prefix = [0u8; 4];
    match r.read_exact(&mut prefix).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut buf = vec![0u8; frame_length(prefix, max)?];
    r.read_exact(&mut buf).await?;
    Ok(Some(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_length_prefixed_json() {
        let f = frame(&Response::Exit {
            exit: 0,
            error: None,
        });
        assert_eq!(&f[..4], &(f.len() as u32 - 4).to_be_bytes());
        assert_eq!(&f[4..], br#"{"exit":0,"error":null}"#);
        let back = read_frame(&mut &f[..], MAX_RESPONSE_BYTES)
            .expect("read")
            .expect("a frame");
        let r: Response = serde_json::from_slice(&back).expect("json");
        assert_eq!(
            r,
            Response::Exit {
                exit: 0,
                error: None
            }
        );
        let out: Response = serde_json::from_slice(br#"{"stdout":"hi\n"}"#).expect("json");
        assert_eq!(
            out,
            Response::Stdout {
                stdout: "hi\n".into()
            }
        );
    }

    #[test]
    fn oversized_frames_are_refused_from_the_prefix() {
        let mut bytes = u32::MAX.to_be_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        let err = read_frame(&mut &bytes[..], MAX_REQUEST_BYTES).expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            read_frame(&mut &b""[..], MAX_REQUEST_BYTES)
                .expect("clean end")
                .is_none()
        );
    }

    #[test]
    fn chunks_respect_characters_and_size() {
        let text = "é".repeat(TEXT_CHUNK_BYTES);
        let parts = chunks(&text);
        assert!(parts.iter().all(|p| p.len() <= TEXT_CHUNK_BYTES));
        assert_eq!(parts.concat(), text);
        assert!(chunks("").is_empty());
    }
}
