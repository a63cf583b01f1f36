//! Frames on the worker's pipes: a little-endian `u32` length, then that many bytes whose first
//! byte says what they are (a JSON message, or an import page as the connector packed it).
//! `plugin-api/docs/worker-protocol.md` is the reference; this file is its code.

use std::io::{self, Read, Write};

/// The largest frame either side accepts (the length after the 4 length bytes). Checked before
/// anything is allocated, so a broken or hostile peer cannot make the other side reserve gigabytes.
pub const MAX_FRAME: u32 = 64 * 1024 * 1024;

/// Frame kind: a UTF-8 JSON object follows.
const KIND_JSON: u8 = 1;
/// Frame kind: an import page follows (header, then the packed page bytes).
const KIND_PAGE: u8 = 2;

/// An import page as it crosses the pipe: the call it answers, what the connector returned with
/// it, and the packed page bytes (`plugin_api::page`'s format), untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFrame {
    pub id: u64,
    pub entries: u32,
    pub more_to_import: bool,
    pub custom_data: String,
    pub bytes: Vec<u8>,
}

/// One frame, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Json(Vec<u8>),
    Page(PageFrame),
}

/// Why a frame could not be read: the pipe failed, or the peer broke the framing rules.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("pipe error: {0}")]
    Io(#[from] io::Error),
    #[error("frame of {0} bytes is larger than the limit of {MAX_FRAME} bytes")]
    TooLarge(u32),
    #[error("empty frame")]
    Empty,
    #[error("unknown frame kind {0}")]
    Kind(u8),
    #[error("page frame header is truncated or damaged")]
    PageHeader,
}

/// Reads one frame; `Ok(None)` at a clean end of the stream (the peer closed its end between
/// frames). A stream that ends inside a frame is an error.
pub fn read_frame(r: &mut impl Read) -> Result<Option<Frame>, FrameError> {
    let mut len = [0u8; 4];
    if !read_exact_or_eof(r, &mut len)? {
        return Ok(None);
    }
    let len = u32::from_le_bytes(len);
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut kind = [0u8; 1];
    r.read_exact(&mut kind)?;
    let mut body = vec![0u8; len as usize - 1];
    r.read_exact(&mut body)?;
    match kind[0] {
        KIND_JSON => Ok(Some(Frame::Json(body))),
        KIND_PAGE => parse_page(body).map(|p| Some(Frame::Page(p))),
        other => Err(FrameError::Kind(other)),
    }
}

/// Fills `buf`, or returns `false` when the stream ends before its first byte.
fn read_exact_or_eof(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Page header (after the kind byte): u64 id, u32 entries, u8 more_to_import, u32 length and
/// the UTF-8 custom data; the page bytes are the rest of the frame.
fn parse_page(mut body: Vec<u8>) -> Result<PageFrame, FrameError> {
    const FIXED: usize = 8 + 4 + 1 + 4;
    if body.len() < FIXED {
        return Err(FrameError::PageHeader);
    }
    let id = u64::from_le_bytes(body[0..8].try_into().expect("8 bytes"));
    let entries = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
    let more_to_import = match body[12] {
        0 => false,
        1 => true,
        _ => return Err(FrameError::PageHeader),
    };
    let custom_len = u32::from_le_bytes(body[13..17].try_into().expect("4 bytes")) as usize;
    let custom_end = FIXED
        .checked_add(custom_len)
        .filter(|end| *end <= body.len())
        .ok_or(FrameError::PageHeader)?;
    let custom_data = std::str::from_utf8(&body[FIXED..custom_end])
        .map_err(|_| FrameError::PageHeader)?
        .to_owned();
    // The page bytes keep the frame's allocation: the header is shifted out, not copied away.
    body.drain(..custom_end);
    Ok(PageFrame {
        id,
        entries,
        more_to_import,
        custom_data,
        bytes: body,
    })
}

/// Writes one JSON frame and flushes it.
pub fn write_json(w: &mut impl Write, json: &[u8]) -> io::Result<()> {
    write_frame(w, KIND_JSON, &[], json)
}

/// Writes one page frame and flushes it.
pub fn write_page(w: &mut impl Write, page: &PageFrame) -> io::Result<()> {
    let custom = page.custom_data.as_bytes();
    let mut header = Vec::with_capacity(17 + custom.len());
    header.extend_from_slice(&page.id.to_le_bytes());
    header.extend_from_slice(&page.entries.to_le_bytes());
    header.push(u8::from(page.more_to_import));
    header.extend_from_slice(&len_u32(custom.len())?.to_le_bytes());
    header.extend_from_slice(custom);
    write_frame(w, KIND_PAGE, &header, &page.bytes)
}

fn write_frame(w: &mut impl Write, kind: u8, header: &[u8], body: &[u8]) -> io::Result<()> {
    let len = len_u32(1 + header.len() + body.len())?;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("frame of {len} bytes is larger than the limit of {MAX_FRAME} bytes"),
        ));
    }
    let mut head = Vec::with_capacity(5 + header.len());
    head.extend_from_slice(&len.to_le_bytes());
    head.push(kind);
    head.extend_from_slice(header);
    w.write_all(&head)?;
    w.write_all(body)?;
    w.flush()
}

fn len_u32(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("frame of {n} bytes is larger than the limit of {MAX_FRAME} bytes"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_page_frames_round_trip_and_a_clean_end_is_none() {
        let mut buf = Vec::new();
        write_json(&mut buf, br#"{"type":"hello"}"#).unwrap();
        let page = PageFrame {
            id: 7,
            entries: 2,
            more_to_import: true,
            custom_data: "watermark é".into(),
            bytes: vec![3, 1, 2, 3],
        };
        write_page(&mut buf, &page).unwrap();
        let mut r = &buf[..];
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some(Frame::Json(br#"{"type":"hello"}"#.to_vec()))
        );
        assert_eq!(read_frame(&mut r).unwrap(), Some(Frame::Page(page)));
        assert!(read_frame(&mut r).unwrap().is_none());
    }

    #[test]
    fn the_byte_layout_is_the_documented_one() {
        let mut buf = Vec::new();
        write_json(&mut buf, b"{}").unwrap();
        assert_eq!(buf, [3, 0, 0, 0, 1, b'{', b'}']);
        buf.clear();
        let page = PageFrame {
            id: 1,
            entries: 0,
            more_to_import: false,
            custom_data: "w".into(),
            bytes: vec![9],
        };
        write_page(&mut buf, &page).unwrap();
        assert_eq!(
            buf,
            [
                20, 0, 0, 0, 2, // length, kind
                1, 0, 0, 0, 0, 0, 0, 0, // id
                0, 0, 0, 0, // entries
                0, // more_to_import
                1, 0, 0, 0, b'w', // custom data
                9     // page bytes
            ]
        );
    }

    #[test]
    fn oversized_empty_truncated_and_unknown_frames_are_refused_before_allocating() {
        let huge = (MAX_FRAME + 1).to_le_bytes();
        assert!(matches!(
            read_frame(&mut &huge[..]),
            Err(FrameError::TooLarge(n)) if n == MAX_FRAME + 1
        ));
        assert!(matches!(
            read_frame(&mut &[0u8, 0, 0, 0][..]),
            Err(FrameError::Empty)
        ));
        assert!(matches!(
            read_frame(&mut &[5u8, 0, 0, 0, 1, b'{'][..]),
            Err(FrameError::Io(_))
        ));
        assert!(matches!(
            read_frame(&mut &[1u8, 0][..]),
            Err(FrameError::Io(_))
        ));
        assert!(matches!(
            read_frame(&mut &[1u8, 0, 0, 0, 9][..]),
            Err(FrameError::Kind(9))
        ));
        assert!(matches!(
            read_frame(&mut &[3u8, 0, 0, 0, 2, 0, 0][..]),
            Err(FrameError::PageHeader)
        ));
    }
}
