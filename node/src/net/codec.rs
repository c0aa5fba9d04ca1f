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
//! It must not interpret frame contents: they are opaque bytes for the layer above. It does own
//! their *encoding* on the wire: the body starts with one encoding byte, raw (0) or deflate (1).
//! Frames of at least [`COMPRESS_MIN_BYTES`] are deflated when that makes them smaller (sync
//! batches carry automerge changes with uncompressed columns, which shrink several-fold). A
//! deflate body is inflated with the frame limit as a hard cap: the first byte beyond it stops
//! inflation and refuses the frame, so a decompression bomb costs at most the limit.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// Encoding byte: the body follows as is.
const ENCODING_RAW: u8 = 0;

/// Encoding byte: the body is a raw deflate stream (RFC 1951).
const ENCODING_DEFLATE: u8 = 1;

/// Frames shorter than this are sent raw: compressing them saves too little to pay for itself.
pub(super) const COMPRESS_MIN_BYTES: usize = 512;

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

/// Bytes of frames (length prefixes and encoded bodies) written and read, as they crossed the
/// wire: what compression actually saved shows here, not in the frames the layer above sees.
#[derive(Debug, Default)]
pub(super) struct WireCounters {
    pub(super) sent: AtomicU64,
    pub(super) received: AtomicU64,
}

/// The request-response codec. Cloned into every connection handler; carries the frame limit.
#[derive(Debug, Clone)]
pub(super) struct FrameCodec {
    max_frame_bytes: usize,
    counters: Arc<WireCounters>,
}

impl FrameCodec {
    /// A codec that refuses frames longer than `max_frame_bytes` and counts into `counters`.
    pub(super) fn new(max_frame_bytes: usize, counters: Arc<WireCounters>) -> Self {
        Self {
            max_frame_bytes,
            counters,
        }
    }
}

/// Reads one frame: length prefix, body, end of stream.
pub(super) async fn read_frame<T>(io: &mut T, max_frame_bytes: usize) -> io::Result<WireFrame>
where
    T: AsyncRead + Unpin,
{
    read_frame_counted(io, max_frame_bytes, &mut 0).await
}

/// [`read_frame`], adding the bytes read to `wire`.
async fn read_frame_counted<T>(
    io: &mut T,
    max_frame_bytes: usize,
    wire: &mut u64,
) -> io::Result<WireFrame>
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
    *wire += LENGTH_PREFIX_BYTES as u64;
    let claimed = u32::from_be_bytes(prefix);
    // The encoding byte comes on top of a raw body of at most the limit.
    let len = match usize::try_from(claimed) {
        Ok(len) if len <= max_frame_bytes.saturating_add(1) => len,
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
    *wire += body.len() as u64;
    Ok(decode_body(body, max_frame_bytes))
}

/// The frame an encoded body carries (see the module docs).
fn decode_body(mut body: Vec<u8>, max_frame_bytes: usize) -> WireFrame {
    match body.first() {
        Some(&ENCODING_RAW) if body.len() <= max_frame_bytes.saturating_add(1) => {
            body.remove(0);
            WireFrame::Data(body)
        }
        Some(&ENCODING_RAW) => WireFrame::Refused(Misbehaviour::FrameTooLarge {
            claimed: body.len() as u64 - 1,
            limit: max_frame_bytes,
        }),
        Some(&ENCODING_DEFLATE) => {
            use std::io::Read as _;
            let cap = max_frame_bytes as u64 + 1;
            let mut out = Vec::new();
            let inflated = flate2::read::DeflateDecoder::new(&body[1..])
                .take(cap)
                .read_to_end(&mut out);
            match inflated {
                Err(_) => WireFrame::Refused(Misbehaviour::BadEncoding),
                Ok(_) if out.len() > max_frame_bytes => {
                    WireFrame::Refused(Misbehaviour::InflatesTooLarge {
                        limit: max_frame_bytes,
                    })
                }
                Ok(_) => WireFrame::Data(out),
            }
        }
        _ => WireFrame::Refused(Misbehaviour::BadEncoding),
    }
}

/// Bytes of a frame compressed first to see whether the rest is worth compressing: sync frames
/// that carry sealed envelopes are ciphertext and do not compress at all.
const COMPRESS_SAMPLE_BYTES: usize = 4096;

/// Whether the start of `bytes` shrinks by at least a tenth under fast deflate.
fn looks_compressible(bytes: &[u8]) -> bool {
    use std::io::Write as _;
    let sample = &bytes[..bytes.len().min(COMPRESS_SAMPLE_BYTES)];
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    match e.write_all(sample).and_then(|()| e.finish()) {
        Ok(out) => out.len() * 10 < sample.len() * 9,
        Err(_) => false,
    }
}

/// The encoded body of a frame: deflated when it is long enough and that makes it smaller.
fn encode_body(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() >= COMPRESS_MIN_BYTES && looks_compressible(bytes) {
        use std::io::Write as _;
        let mut encoder =
            flate2::write::DeflateEncoder::new(vec![ENCODING_DEFLATE], flate2::Compression::fast());
        if encoder.write_all(bytes).is_ok()
            && let Ok(out) = encoder.finish()
            && out.len() < bytes.len()
        {
            return out;
        }
    }
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(ENCODING_RAW);
    out.extend_from_slice(bytes);
    out
}

/// Writes one frame: length prefix and body. The caller closes the stream afterwards. Returns
/// the bytes written.
pub(super) async fn write_frame<T>(io: &mut T, frame: &WireFrame) -> io::Result<u64>
where
    T: AsyncWrite + Unpin,
{
    let written = match frame {
        WireFrame::Data(bytes) => {
            let body = encode_body(bytes);
            let len = u32::try_from(body.len()).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "frame longer than 4 GiB")
            })?;
            io.write_all(&len.to_be_bytes()).await?;
            io.write_all(&body).await?;
            (LENGTH_PREFIX_BYTES + body.len()) as u64
        }
        WireFrame::Refused(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a refused frame cannot be sent",
            ));
        }
        #[cfg(test)]
        WireFrame::Raw(bytes) => {
            io.write_all(bytes).await?;
            bytes.len() as u64
        }
    };
    io.flush().await?;
    Ok(written)
}

impl libp2p::request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = WireFrame;
    type Response = ();

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<WireFrame>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut wire = 0;
        let frame = read_frame_counted(io, self.max_frame_bytes, &mut wire).await;
        self.counters.received.fetch_add(wire, Ordering::Relaxed);
        frame
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
        let written = write_frame(io, &frame).await?;
        self.counters.sent.fetch_add(written, Ordering::Relaxed);
        Ok(())
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, (): ()) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&[ACK]).await?;
        io.flush().await
    }
}

/// The protocol spoken between a member node and a relay it uses: access updates and the
/// mailbox. Only relays serve it; members never accept it from each other.
pub(super) const RELAY_RPC_PROTOCOL: StreamProtocol = StreamProtocol::new("/puente/relay/1");

/// The codec of [`RELAY_RPC_PROTOCOL`]: a request frame answered by a response frame, both in
/// the same framing as sync frames (length prefix checked before allocating, raw or deflate
/// body inflated with the limit as a cap). Contents are opaque here.
#[derive(Debug, Clone)]
pub(super) struct RpcCodec {
    max_frame_bytes: usize,
}

impl RpcCodec {
    /// A codec that refuses requests and responses longer than `max_frame_bytes`.
    pub(super) fn new(max_frame_bytes: usize) -> Self {
        Self { max_frame_bytes }
    }
}

impl libp2p::request_response::Codec for RpcCodec {
    type Protocol = StreamProtocol;
    type Request = WireFrame;
    type Response = WireFrame;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<WireFrame>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_frame_bytes).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<WireFrame>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_frame_bytes).await
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
        write_frame(io, &frame).await.map(|_| ())
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        frame: WireFrame,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &frame).await.map(|_| ())
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

    /// A frame as it is on the wire: length prefix, then the encoded body as given.
    fn framed(encoded: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(encoded.len())
            .expect("small")
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(encoded);
        out
    }

    /// A raw-encoded body.
    fn raw(body: &[u8]) -> Vec<u8> {
        let mut out = vec![ENCODING_RAW];
        out.extend_from_slice(body);
        out
    }

    /// A deflate-encoded body.
    fn deflated(body: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut e =
            flate2::write::DeflateEncoder::new(vec![ENCODING_DEFLATE], flate2::Compression::best());
        e.write_all(body).expect("in memory");
        e.finish().expect("in memory")
    }

    async fn written(body: &[u8]) -> Vec<u8> {
        let mut wire = Cursor::new(Vec::new());
        write_frame(&mut wire, &WireFrame::Data(body.to_vec()))
            .await
            .expect("in-memory writes do not fail");
        wire.into_inner()
    }

    #[tokio::test]
    async fn frames_round_trip() {
        let random: Vec<u8> = (0..LIMIT as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for body in [&b""[..], b"x", &[7u8; LIMIT][..], &random[..]] {
            let wire = written(body).await;
            assert_eq!(read(&wire).await, WireFrame::Data(body.to_vec()));
        }
        // Short frames go raw; a compressible long one is deflated and much smaller.
        assert_eq!(written(b"x").await, framed(&raw(b"x")));
        assert!(written(&[7u8; LIMIT]).await.len() < LIMIT / 10);
    }

    #[tokio::test]
    async fn a_deflate_bomb_stops_at_the_limit() {
        // 16 MiB of zeros deflate to about 16 KiB; inflating stops one byte past the limit.
        let bomb = deflated(&vec![0u8; 16 << 20]);
        assert!(bomb.len() < 64 * 1024);
        let frame = read_frame(&mut Cursor::new(framed(&bomb)), 64 * 1024)
            .await
            .expect("no I/O error");
        assert_eq!(
            frame,
            WireFrame::Refused(Misbehaviour::InflatesTooLarge { limit: 64 * 1024 })
        );
    }

    #[tokio::test]
    async fn unknown_encodings_and_corrupt_deflate_are_refused() {
        let bad = WireFrame::Refused(Misbehaviour::BadEncoding);
        assert_eq!(read(&framed(&[9, 1, 2, 3])).await, bad);
        assert_eq!(read(&framed(&[])).await, bad, "no encoding byte");
        let mut corrupt = deflated(&[5u8; 600]);
        let n = corrupt.len();
        corrupt.truncate(n - 2);
        corrupt.push(0xff);
        assert_eq!(read(&framed(&corrupt)).await, bad);
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
        // The prefix counts the encoding byte: a raw body one byte over claims LIMIT + 2.
        let body = raw(&vec![0u8; LIMIT + 1]);
        assert_eq!(
            read(&framed(&body)).await,
            WireFrame::Refused(Misbehaviour::FrameTooLarge {
                claimed: (LIMIT + 2) as u64,
                limit: LIMIT,
            })
        );
        assert_eq!(
            read(&framed(&raw(&vec![0u8; LIMIT]))).await,
            WireFrame::Data(vec![0u8; LIMIT]),
            "exactly the limit passes"
        );
    }

    #[tokio::test]
    async fn truncated_and_padded_frames_are_refused() {
        let truncated = WireFrame::Refused(Misbehaviour::TruncatedFrame);
        assert_eq!(read(b"").await, truncated);
        assert_eq!(read(&[0, 0]).await, truncated);
        let mut short = framed(&raw(b"hello"));
        short.pop();
        assert_eq!(read(&short).await, truncated);
        let mut long = framed(&raw(b"hello"));
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
        let mut codec = FrameCodec::new(LIMIT, Arc::default());
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
