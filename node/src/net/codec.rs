//! The wire codec of `/puente/sync/1`: one frame per request-response substream.
//!
//! A request is a 4-byte big-endian length followed by exactly that many bytes, then the end of
//! the stream; the response is a single acknowledgement byte. This module owns the only code that
//! reads frame bytes off the network, so it owns the limits: a length prefix above the configured
//! maximum is refused before a single byte of the body is read or allocated, and a body is read
//! into a buffer that grows with the bytes actually received (never ahead of them), so a peer
//! that claims 8 MiB and sends one byte costs one byte plus a small chunk.
//!
//! Malformed input is not an I/O error here: `libp2p-request-response` drops inbound read errors
//! silently (no event names the peer), so the codec returns [`WireFrame::Refused`] instead and
//! the actor, which knows the peer and the connection, reports it and closes the connection.
//!
//! It must not interpret frame contents: they are opaque bytes for the layer above.

use std::io;

use libp2p::StreamProtocol;
use libp2p::futures::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use super::Misbehaviour;

/// The one application protocol spoken between members.
pub(super) const PROTOCOL: StreamProtocol = StreamProtocol::new("/puente/sync/1");

/// Bytes in the length prefix: a `u32`, so no prefix can claim more than 4 GiB − 1, and every
/// claim is compared with the limit before anything is allocated.
const LENGTH_PREFIX_BYTES: usize = 4;

/// The acknowledgement byte a receiver writes once it has taken a frame. A distinct non-zero
/// value, so a stream that is merely closed early is not mistaken for an acknowledgement.
const ACK: u8 = 0x06;

/// Smallest step by which a frame buffer grows while its body arrives: large enough that an
/// 8 MiB frame needs only a handful of reallocations, small enough that a peer that stalls after
/// a large length prefix pins no more than this beyond what it actually sent.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// One request on `/puente/sync/1`, as read by the codec.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum WireFrame {
    /// A well-formed frame.
    Data(Vec<u8>),
    /// The peer broke the framing rules; the body (if any) was not kept.
    Refused(Misbehaviour),
    /// Test only: bytes written verbatim, to forge prefixes a correct sender never writes.
    #[cfg(test)]
    Raw(Vec<u8>),
}

impl std::fmt::Debug for WireFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Frame contents are never printed, only their size.
        match self {
            Self::Data(bytes) => write!(f, "Data({} bytes)", bytes.len()),
            Self::Refused(reason) => write!(f, "Refused({reason:?})"),
            #[cfg(test)]
            Self::Raw(bytes) => write!(f, "Raw({} bytes)", bytes.len()),
        }
    }
}

/// The request-response codec. Cloned into every connection handler; carries the frame limit.
#[derive(Debug, Clone)]
pub(super) struct FrameCodec {
    max_frame_bytes: usize,
}

impl FrameCodec {
    /// A codec that refuses frames longer than `max_frame_bytes`.
    pub(super) fn new(max_frame_bytes: usize) -> Self {
        Self { max_frame_bytes }
    }
}

/// Reads one frame: length prefix, body, end of stream.
pub(super) async fn read_frame<T>(io: &mut T, max_frame_bytes: usize) -> io::Result<WireFrame>
where
    T: AsyncRead + Unpin,
{
    let mut prefix = [0u8; LENGTH_PREFIX_BYTES];
    match io.read_exact(&mut prefix).await {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            return Ok(WireFrame::Refused(Misbehaviour::TruncatedFrame));
        }
        Err(e) => return Err(e),
    }
    let claimed = u32::from_be_bytes(prefix);
    let len = match usize::try_from(claimed) {
        Ok(len) if len <= max_frame_bytes => len,
        _ => {
            return Ok(WireFrame::Refused(Misbehaviour::FrameTooLarge {
                claimed: u64::from(claimed),
                limit: max_frame_bytes,
            }));
        }
    };

    let mut body = Vec::new();
    while body.len() < len {
        if body.len() == body.capacity() {
            // Grow geometrically for speed, but never past the claimed length and never by less
            // than a chunk; the capacity stays within twice the bytes received plus one chunk.
            let target = (body.capacity() * 2).max(READ_CHUNK_BYTES).min(len);
            body.reserve_exact(target - body.len());
        }
        let start = body.len();
        let end = body.capacity().min(len);
        body.resize(end, 0);
        let read = io.read(&mut body[start..end]).await?;
        body.truncate(start + read);
        if read == 0 {
            return Ok(WireFrame::Refused(Misbehaviour::TruncatedFrame));
        }
    }

    // The sender closes its side right after the body; anything more breaks the framing.
    let mut extra = [0u8; 1];
    if io.read(&mut extra).await? != 0 {
        return Ok(WireFrame::Refused(Misbehaviour::TrailingBytes));
    }
    Ok(WireFrame::Data(body))
}

/// Writes one frame: length prefix and body. The caller closes the stream afterwards.
pub(super) async fn write_frame<T>(io: &mut T, frame: &WireFrame) -> io::Result<()>
where
    T: AsyncWrite + Unpin,
{
    match frame {
        WireFrame::Data(bytes) => {
            let len = u32::try_from(bytes.len()).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "frame longer than 4 GiB")
            })?;
            io.write_all(&len.to_be_bytes()).await?;
            io.write_all(bytes).await?;
        }
        WireFrame::Refused(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a refused frame cannot be sent",
            ));
        }
        #[cfg(test)]
        WireFrame::Raw(bytes) => io.write_all(bytes).await?,
    }
    io.flush().await
}

impl libp2p::request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = WireFrame;
    type Response = ();

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<WireFrame>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_frame_bytes).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<()>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut ack = [0u8; 1];
        io.read_exact(&mut ack).await?;
        if ack[0] == ACK {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unexpected acknowledgement byte",
            ))
        }
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        frame: WireFrame,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &frame).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, (): ()) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&[ACK]).await?;
        io.flush().await
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use libp2p::futures::io::Cursor;

    use super::*;

    const LIMIT: usize = 1024;

    async fn read(bytes: &[u8]) -> WireFrame {
        read_frame(&mut Cursor::new(bytes.to_vec()), LIMIT)
            .await
            .expect("in-memory reads do not fail")
    }

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(body.len())
            .expect("small")
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(body);
        out
    }

    #[tokio::test]
    async fn frames_round_trip() {
        for body in [&b""[..], b"x", &[7u8; LIMIT][..]] {
            let mut wire = Cursor::new(Vec::new());
            write_frame(&mut wire, &WireFrame::Data(body.to_vec()))
                .await
                .expect("in-memory writes do not fail");
            assert_eq!(wire.get_ref(), &framed(body));
            assert_eq!(read(wire.get_ref()).await, WireFrame::Data(body.to_vec()));
        }
    }

    /// A reader that yields a fixed prefix and then fails the test if read again: proves the
    /// codec decides on the prefix alone, before reading or allocating the body.
    struct PrefixOnly {
        prefix: [u8; 4],
        served: bool,
    }

    impl AsyncRead for PrefixOnly {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            assert!(!self.served, "the codec read past a refused length prefix");
            assert!(buf.len() >= 4, "the prefix is read in one go");
            buf[..4].copy_from_slice(&self.prefix);
            self.served = true;
            Poll::Ready(Ok(4))
        }
    }

    #[tokio::test]
    async fn a_prefix_claiming_4_gib_is_refused_before_reading_the_body() {
        let mut io = PrefixOnly {
            prefix: u32::MAX.to_be_bytes(),
            served: false,
        };
        let frame = read_frame(&mut io, super::super::MAX_FRAME_BYTES)
            .await
            .expect("no I/O error");
        assert_eq!(
            frame,
            WireFrame::Refused(Misbehaviour::FrameTooLarge {
                claimed: u64::from(u32::MAX),
                limit: super::super::MAX_FRAME_BYTES,
            })
        );
    }

    #[tokio::test]
    async fn one_byte_over_the_limit_is_refused() {
        let body = vec![0u8; LIMIT + 1];
        assert_eq!(
            read(&framed(&body)).await,
            WireFrame::Refused(Misbehaviour::FrameTooLarge {
                claimed: (LIMIT + 1) as u64,
                limit: LIMIT,
            })
        );
    }

    #[tokio::test]
    async fn truncated_and_padded_frames_are_refused() {
        let truncated = WireFrame::Refused(Misbehaviour::TruncatedFrame);
        assert_eq!(read(b"").await, truncated);
        assert_eq!(read(&[0, 0]).await, truncated);
        let mut short = framed(b"hello");
        short.pop();
        assert_eq!(read(&short).await, truncated);
        let mut long = framed(b"hello");
        long.push(0);
        assert_eq!(
            read(&long).await,
            WireFrame::Refused(Misbehaviour::TrailingBytes)
        );
    }

    #[tokio::test]
    async fn a_body_shorter_than_its_prefix_is_truncated() {
        // The prefix claims a megabyte but only three bytes follow before the stream ends.
        let mut wire = 1_000_000u32.to_be_bytes().to_vec();
        wire.extend_from_slice(b"abc");
        let frame = read_frame(&mut Cursor::new(wire), 2_000_000)
            .await
            .expect("no I/O error");
        assert_eq!(frame, WireFrame::Refused(Misbehaviour::TruncatedFrame));
    }

    #[tokio::test]
    async fn acknowledgements_round_trip_and_garbage_is_an_error() {
        use libp2p::request_response::Codec as _;
        let mut codec = FrameCodec::new(LIMIT);
        let mut wire = Cursor::new(Vec::new());
        codec
            .write_response(&PROTOCOL, &mut wire, ())
            .await
            .expect("in-memory writes do not fail");
        let mut back = Cursor::new(wire.into_inner());
        codec
            .read_response(&PROTOCOL, &mut back)
            .await
            .expect("a valid ack");
        let mut garbage = Cursor::new(vec![0u8]);
        assert!(codec.read_response(&PROTOCOL, &mut garbage).await.is_err());
        let mut empty = Cursor::new(Vec::new());
        assert!(codec.read_response(&PROTOCOL, &mut empty).await.is_err());
    }
}
