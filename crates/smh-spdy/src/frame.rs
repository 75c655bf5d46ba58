//! SPDY/3.1 frames: parsing from and encoding to bytes, with the header blocks' shared zlib
//! contexts (one per direction and session, primed with the SPDY/3 dictionary, each block
//! ended by a sync flush).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::dictionary::HEADER_DICTIONARY;

/// The only SPDY version spoken: 3 (3.1 differs only in flow control).
pub const VERSION: u16 = 3;
/// `FLAG_FIN` on data frames, SYN_STREAM, SYN_REPLY and HEADERS: the sender's half is closed.
pub const FLAG_FIN: u8 = 0x01;
/// Largest frame payload accepted (the length field has 24 bits).
const MAX_PAYLOAD: usize = (1 << 24) - 1;
/// Largest decompressed header block accepted (a guard against zlib bombs).
const MAX_HEADER_BLOCK: usize = 256 * 1024;

/// RST_STREAM (and GOAWAY) status codes used here.
pub mod rst {
    /// The peer sent something that is not SPDY/3.
    pub const PROTOCOL_ERROR: u32 = 1;
    /// A frame for a stream that is not open.
    pub const INVALID_STREAM: u32 = 2;
    /// The stream was refused before any processing (bad headers).
    pub const REFUSED_STREAM: u32 = 3;
    /// The stream is no longer needed.
    pub const CANCEL: u32 = 5;
}

/// Header names and values of one header block, in order. SPDY/3 names are lower case.
pub type Headers = Vec<(String, String)>;

/// A frame, as far as a port-forward peer needs to tell them apart. `stream` is a stream id
/// (31 bits); `fin` is `FLAG_FIN`: the sender's half of the stream is closed.
#[allow(missing_docs)] // the fields are the protocol's, named as the SPDY/3 draft names them
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Bytes on a stream.
    Data {
        stream: u32,
        fin: bool,
        data: Vec<u8>,
    },
    /// Opens a stream (the client's odd ids). Priority and slot are read and written as 0.
    SynStream {
        stream: u32,
        fin: bool,
        headers: Headers,
    },
    /// Accepts a stream the peer opened.
    SynReply {
        stream: u32,
        fin: bool,
        headers: Headers,
    },
    /// Ends a stream abnormally with a status from [`rst`].
    RstStream { stream: u32, status: u32 },
    /// SETTINGS; its values are not needed here (written with no entries).
    Settings,
    /// A liveness check, answered with the same id.
    Ping { id: u32 },
    /// Ends the session; no new streams after `last_stream`.
    GoAway { last_stream: u32, status: u32 },
    /// More headers on an open stream.
    Headers {
        stream: u32,
        fin: bool,
        headers: Headers,
    },
    /// SPDY/3.1 flow control: the receiver takes `delta` more bytes (stream 0: the session).
    WindowUpdate { stream: u32, delta: u32 },
    /// A control frame of a type SPDY/3 does not define: ignored, as the protocol requires.
    Unknown,
}

/// A frame that cannot be read: the session ends with GOAWAY (PROTOCOL_ERROR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError(pub String);

impl std::error::Error for FrameError {}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(msg: impl Into<String>) -> FrameError {
    FrameError(msg.into())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn stream_id_at(b: &[u8], at: usize) -> u32 {
    u32_at(b, at) & 0x7fff_ffff
}

/// Reads frames from a byte stream; owns the decompression context of the peer's headers.
pub struct Decoder {
    zlib: Decompress,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            zlib: Decompress::new(true),
        }
    }
}

impl Decoder {
    /// The next whole frame at the start of `buf`, and how many bytes it took; `Ok(None)`
    /// when `buf` does not hold a whole frame yet.
    pub fn decode(&mut self, buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
        if buf.len() < 8 {
            return Ok(None);
        }
        let flags = buf[4];
        let len = (u32_at(buf, 4) & 0x00ff_ffff) as usize;
        if buf.len() < 8 + len {
            return Ok(None);
        }
        let payload = &buf[8..8 + len];
        let fin = flags & FLAG_FIN != 0;
        let frame = if buf[0] & 0x80 == 0 {
            Frame::Data {
                stream: stream_id_at(buf, 0),
                fin,
                data: payload.to_vec(),
            }
        } else {
            let version = u16::from_be_bytes([buf[0], buf[1]]) & 0x7fff;
            if version != VERSION {
                return Err(err(format!("unsupported SPDY version {version}")));
            }
            let kind = u16::from_be_bytes([buf[2], buf[3]]);
            self.control(kind, fin, payload)?
        };
        Ok(Some((frame, 8 + len)))
    }

    fn control(&mut self, kind: u16, fin: bool, p: &[u8]) -> Result<Frame, FrameError> {
        let need = |n: usize, what: &str| {
            if p.len() < n {
                Err(err(format!("{what} frame too short ({} bytes)", p.len())))
            } else {
                Ok(())
            }
        };
        Ok(match kind {
            1 => {
                need(10, "SYN_STREAM")?;
                Frame::SynStream {
                    stream: stream_id_at(p, 0),
                    fin,
                    headers: self.headers(&p[10..])?,
                }
            }
            2 => {
                need(4, "SYN_REPLY")?;
                Frame::SynReply {
                    stream: stream_id_at(p, 0),
                    fin,
                    headers: self.headers(&p[4..])?,
                }
            }
            3 => {
                need(8, "RST_STREAM")?;
                Frame::RstStream {
                    stream: stream_id_at(p, 0),
                    status: u32_at(p, 4),
                }
            }
            4 => Frame::Settings,
            6 => {
                need(4, "PING")?;
                Frame::Ping { id: u32_at(p, 0) }
            }
            7 => {
                need(4, "GOAWAY")?;
                Frame::GoAway {
                    last_stream: stream_id_at(p, 0),
                    status: if p.len() >= 8 { u32_at(p, 4) } else { 0 },
                }
            }
            8 => {
                need(4, "HEADERS")?;
                Frame::Headers {
                    stream: stream_id_at(p, 0),
                    fin,
                    headers: self.headers(&p[4..])?,
                }
            }
            9 => {
                need(8, "WINDOW_UPDATE")?;
                Frame::WindowUpdate {
                    stream: stream_id_at(p, 0),
                    delta: u32_at(p, 4) & 0x7fff_ffff,
                }
            }
            _ => Frame::Unknown,
        })
    }

    /// Inflates one header block (the session's zlib stream continues across blocks).
    fn headers(&mut self, compressed: &[u8]) -> Result<Headers, FrameError> {
        let mut out = Vec::with_capacity(256);
        let mut input = compressed;
        loop {
            if out.capacity() - out.len() < 256 {
                out.reserve(1024);
            }
            let before_in = self.zlib.total_in();
            let res = self
                .zlib
                .decompress_vec(input, &mut out, FlushDecompress::Sync);
            let used = (self.zlib.total_in() - before_in) as usize;
            input = &input[used..];
            match res {
                Ok(Status::StreamEnd) => break,
                Ok(_) if input.is_empty() && out.len() < out.capacity() => break,
                Ok(_) => {}
                Err(e) => match e.needs_dictionary() {
                    Some(_) => {
                        self.zlib
                            .set_dictionary(HEADER_DICTIONARY)
                            .map_err(|e| err(format!("header dictionary: {e}")))?;
                    }
                    None => return Err(err(format!("header block: {e}"))),
                },
            }
            if out.len() > MAX_HEADER_BLOCK {
                return Err(err("header block too large"));
            }
        }
        parse_header_block(&out)
    }
}

fn parse_header_block(b: &[u8]) -> Result<Headers, FrameError> {
    let short = || err("header block truncated");
    let mut at = 0;
    let mut take = |n: usize| -> Result<&[u8], FrameError> {
        let s = b.get(at..at + n).ok_or_else(short)?;
        at += n;
        Ok(s)
    };
    let count = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes"));
    let mut headers = Vec::new();
    for _ in 0..count {
        let n = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        let name = String::from_utf8_lossy(take(n)?).into_owned();
        let n = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        let value = String::from_utf8_lossy(take(n)?).into_owned();
        headers.push((name, value));
    }
    Ok(headers)
}

/// Writes frames; owns the compression context of this side's headers.
pub struct Encoder {
    zlib: Compress,
}

impl Default for Encoder {
    fn default() -> Self {
        let mut zlib = Compress::new(Compression::best(), true);
        zlib.set_dictionary(HEADER_DICTIONARY)
            .expect("a fresh zlib stream takes a dictionary");
        Encoder { zlib }
    }
}

impl Encoder {
    /// Appends `frame` to `out`.
    pub fn encode(&mut self, frame: &Frame, out: &mut Vec<u8>) {
        match frame {
            Frame::Data { stream, fin, data } => {
                for (i, chunk) in data.chunks(MAX_PAYLOAD).enumerate() {
                    let last = (i + 1) * MAX_PAYLOAD >= data.len();
                    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
                    let flags = if *fin && last { FLAG_FIN } else { 0 };
                    push_flags_len(out, flags, chunk.len());
                    out.extend_from_slice(chunk);
                }
                if data.is_empty() {
                    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
                    push_flags_len(out, if *fin { FLAG_FIN } else { 0 }, 0);
                }
            }
            Frame::SynStream {
                stream,
                fin,
                headers,
            } => {
                let mut p = Vec::new();
                p.extend_from_slice(&stream.to_be_bytes());
                p.extend_from_slice(&0u32.to_be_bytes()); // associated stream
                p.extend_from_slice(&[0, 0]); // priority, slot
                self.push_headers(headers, &mut p);
                control(out, 1, *fin, &p);
            }
            Frame::SynReply {
                stream,
                fin,
                headers,
            } => {
                let mut p = stream.to_be_bytes().to_vec();
                self.push_headers(headers, &mut p);
                control(out, 2, *fin, &p);
            }
            Frame::Headers {
                stream,
                fin,
                headers,
            } => {
                let mut p = stream.to_be_bytes().to_vec();
                self.push_headers(headers, &mut p);
                control(out, 8, *fin, &p);
            }
            Frame::RstStream { stream, status } => {
                let mut p = stream.to_be_bytes().to_vec();
                p.extend_from_slice(&status.to_be_bytes());
                control(out, 3, false, &p);
            }
            Frame::Ping { id } => control(out, 6, false, &id.to_be_bytes()),
            Frame::GoAway {
                last_stream,
                status,
            } => {
                let mut p = last_stream.to_be_bytes().to_vec();
                p.extend_from_slice(&status.to_be_bytes());
                control(out, 7, false, &p);
            }
            Frame::WindowUpdate { stream, delta } => {
                let mut p = stream.to_be_bytes().to_vec();
                p.extend_from_slice(&delta.to_be_bytes());
                control(out, 9, false, &p);
            }
            Frame::Settings => control(out, 4, false, &0u32.to_be_bytes()),
            Frame::Unknown => {}
        }
    }

    fn push_headers(&mut self, headers: &Headers, out: &mut Vec<u8>) {
        let mut raw = Vec::new();
        raw.extend_from_slice(&(headers.len() as u32).to_be_bytes());
        for (name, value) in headers {
            raw.extend_from_slice(&(name.len() as u32).to_be_bytes());
            raw.extend_from_slice(name.as_bytes());
            raw.extend_from_slice(&(value.len() as u32).to_be_bytes());
            raw.extend_from_slice(value.as_bytes());
        }
        let mut input = &raw[..];
        loop {
            out.reserve(raw.len() + 64);
            let before_in = self.zlib.total_in();
            let before_out = out.len();
            self.zlib
                .compress_vec(input, out, FlushCompress::Sync)
                .expect("deflate into a growing buffer");
            input = &input[(self.zlib.total_in() - before_in) as usize..];
            // Done once all input is taken and the flush left room to spare.
            if input.is_empty() && out.len() - before_out < out.capacity() - before_out {
                break;
            }
        }
    }
}

fn push_flags_len(out: &mut Vec<u8>, flags: u8, len: usize) {
    out.push(flags);
    out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
}

fn control(out: &mut Vec<u8>, kind: u16, fin: bool, payload: &[u8]) {
    out.extend_from_slice(&(0x8000 | VERSION).to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    push_flags_len(out, if fin { FLAG_FIN } else { 0 }, payload.len());
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn frames_round_trip_with_one_zlib_context_per_direction() {
        let mut enc = Encoder::default();
        let mut dec = Decoder::default();
        let frames = vec![
            Frame::SynStream {
                stream: 1,
                fin: true,
                headers: h(&[
                    ("streamtype", "error"),
                    ("port", "9080"),
                    ("requestid", "0"),
                ]),
            },
            Frame::SynStream {
                stream: 3,
                fin: false,
                headers: h(&[("streamtype", "data"), ("port", "9080"), ("requestid", "0")]),
            },
            Frame::Data {
                stream: 3,
                fin: false,
                data: b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            },
            Frame::Data {
                stream: 3,
                fin: true,
                data: vec![],
            },
            Frame::Ping { id: 7 },
            Frame::RstStream {
                stream: 3,
                status: rst::CANCEL,
            },
            Frame::WindowUpdate {
                stream: 0,
                delta: 65536,
            },
            Frame::GoAway {
                last_stream: 3,
                status: 0,
            },
        ];
        let mut wire = Vec::new();
        for f in &frames {
            enc.encode(f, &mut wire);
        }
        // Fed one byte at a time, the decoder waits for whole frames.
        let mut got = Vec::new();
        let mut buf = Vec::new();
        for b in wire {
            buf.push(b);
            while let Some((f, n)) = dec.decode(&buf).expect("valid") {
                buf.drain(..n);
                got.push(f);
            }
        }
        assert_eq!(got, frames);
    }

    #[test]
    fn the_dictionary_is_spdy3s() {
        // zlib names the dictionary by its Adler-32 in the stream header (FDICT); every
        // SPDY/3 peer's header block starts with this DICTID.
        let mut enc = Encoder::default();
        let mut out = Vec::new();
        enc.encode(
            &Frame::SynReply {
                stream: 1,
                fin: false,
                headers: vec![],
            },
            &mut out,
        );
        let zlib = &out[12..];
        assert_eq!(zlib[1] & 0x20, 0x20, "FDICT set");
        assert_eq!(u32_at(zlib, 2), 0xe3c6_a7c2);
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        let mut dec = Decoder::default();
        // Version 2 control frame.
        let v2 = [0x80, 0x02, 0x00, 0x01, 0, 0, 0, 0];
        assert!(dec.decode(&v2).is_err());
        // SYN_STREAM with a short payload.
        let short = [0x80, 0x03, 0x00, 0x01, 0, 0, 0, 2, 0, 1];
        assert!(Decoder::default().decode(&short).is_err());
        // SYN_STREAM whose header block is not zlib.
        let mut garbage = vec![0x80, 0x03, 0x00, 0x01, 0, 0, 0, 14];
        garbage.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
        assert!(Decoder::default().decode(&garbage).is_err());
    }
}
