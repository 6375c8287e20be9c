//! A reader between a file and the CSV parser that watches the bytes go by: it caps how many
//! are read, notes a byte-order mark, CR LF line ends and quoted fields, and follows the
//! quoting itself so that an unbalanced quote is an error at the line it opened on — the CSV
//! parser would otherwise take the rest of the file as one field, holding all of it in memory.

use std::io::{self, Read};

/// The longest a quoted field may run before it is taken for an unbalanced quote.
pub const MAX_QUOTED_BYTES: u64 = 1 << 20;

/// The longest a record may run: a roster row is a few hundred bytes, and the CSV parser holds
/// a whole record in memory.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;

/// Line breaks in `bytes`: summed as bytes over runs of 255 (no overflow), which the compiler
/// turns into vector instructions; a plain count of matches is read byte by byte.
fn count_breaks(bytes: &[u8]) -> u64 {
    bytes
        .chunks(255)
        .map(|run| u64::from(run.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>()))
        .sum()
}

/// Why the scanner stopped a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// More bytes than the limit.
    TooLarge { limit: u64 },
    /// A quote opened on `line` and did not close within [`MAX_QUOTED_BYTES`] or by the end.
    UnbalancedQuote { line: u64 },
    /// A record from `line` ran past [`MAX_RECORD_BYTES`] without ending.
    RecordTooLong { line: u64 },
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::TooLarge { limit } => write!(f, "more than {limit} bytes"),
            Stop::UnbalancedQuote { line } => write!(f, "unbalanced quote opened on line {line}"),
            Stop::RecordTooLong { line } => write!(f, "record from line {line} never ends"),
        }
    }
}

impl std::error::Error for Stop {}

/// What the scanner saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    pub bytes: u64,
    pub bom: bool,
    pub crlf: bool,
    /// Fields that open with a quote.
    pub quoted_fields: u64,
}

/// The reader. Wraps any `Read`; reading past a [`Stop`] returns an `io::Error` carrying it.
#[derive(Debug)]
pub struct Scan<R> {
    inner: R,
    limit: u64,
    seen: Seen,
    /// 1-based physical line of the next byte.
    line: u64,
    quoted: bool,
    quote_line: u64,
    quote_start: u64,
    /// Offset of the quote that last closed a quoted section (for `""` escapes).
    closed_at: Option<u64>,
    last: Option<u8>,
    /// Where the record being read began (after the last line break outside quotes), and on
    /// which line.
    record_start: u64,
    record_line: u64,
    /// The buffer ended on a CR: whether a LF follows is seen in the next.
    cr_pending: bool,
}

impl<R: Read> Scan<R> {
    pub fn new(inner: R, limit: u64) -> Scan<R> {
        Scan {
            inner,
            limit,
            seen: Seen::default(),
            line: 1,
            quoted: false,
            quote_line: 0,
            quote_start: 0,
            closed_at: None,
            last: None,
            record_start: 0,
            record_line: 1,
            cr_pending: false,
        }
    }

    pub fn seen(&self) -> Seen {
        self.seen
    }

    fn stop(stop: Stop) -> io::Error {
        io::Error::other(stop)
    }

    /// `buf[from..to]`, which holds no quote: its line breaks, and where a record begins.
    fn segment(&mut self, buf: &[u8], from: usize, to: usize) {
        let seg = &buf[from..to];
        let breaks = count_breaks(seg);
        self.line += breaks;
        if self.quoted {
            return;
        }
        if breaks > 0
            && let Some(last) = memchr::memrchr(b'\n', seg)
        {
            self.record_start = self.seen.bytes + (from + last) as u64 + 1;
            self.record_line = self.line;
        }
        if !self.seen.crlf {
            for i in memchr::memchr_iter(b'\r', seg) {
                match buf.get(from + i + 1) {
                    Some(b'\n') => self.seen.crlf = true,
                    None => self.cr_pending = true,
                    Some(_) => {}
                }
            }
        }
    }

    /// A quote at `buf[i]`, offset `at` in the file: it opens a quoted field at a field's
    /// start, closes an open one, or (right after a closing one) is an escaped quote.
    fn quote(&mut self, buf: &[u8], i: usize, at: u64) {
        if self.quoted {
            self.quoted = false;
            self.closed_at = Some(at);
            return;
        }
        let prev = if i == 0 { self.last } else { Some(buf[i - 1]) };
        let escape = self.closed_at == Some(at.wrapping_sub(1));
        let field_start =
            matches!(prev, None | Some(b',' | b'\n' | b'\r')) || (at == 3 && self.seen.bom);
        if escape {
            self.quoted = true;
        } else if field_start {
            self.quoted = true;
            self.quote_line = self.line;
            self.quote_start = at;
            self.seen.quoted_fields += 1;
        }
    }

    fn watch(&mut self, buf: &[u8]) -> Result<(), Stop> {
        let base = self.seen.bytes;
        if base == 0 && buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.seen.bom = true;
        }
        if std::mem::take(&mut self.cr_pending) && buf.first() == Some(&b'\n') {
            self.seen.crlf = true;
        }
        // Quotes are rare: the bytes between two are handled as a whole (line breaks counted
        // in one vectorised pass), so a file without quotes costs one scan per buffer.
        let mut from = 0;
        for q in memchr::memchr_iter(b'"', buf) {
            self.segment(buf, from, q);
            self.quote(buf, q, base + q as u64);
            from = q + 1;
        }
        self.segment(buf, from, buf.len());
        self.seen.bytes += buf.len() as u64;
        self.last = buf.last().copied().or(self.last);
        if self.seen.bytes > self.limit {
            return Err(Stop::TooLarge { limit: self.limit });
        }
        if self.quoted && self.seen.bytes - self.quote_start > MAX_QUOTED_BYTES {
            return Err(Stop::UnbalancedQuote {
                line: self.quote_line,
            });
        }
        if self.seen.bytes - self.record_start > MAX_RECORD_BYTES {
            return Err(Stop::RecordTooLong {
                line: self.record_line,
            });
        }
        Ok(())
    }
}

impl<R: Read> Read for Scan<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if self.quoted {
                return Err(Self::stop(Stop::UnbalancedQuote {
                    line: self.quote_line,
                }));
            }
            return Ok(0);
        }
        self.watch(&buf[..n]).map_err(Self::stop)?;
        Ok(n)
    }
}

/// The [`Stop`] inside an I/O error the scanner returned, if it is one.
pub fn stop_of(err: &io::Error) -> Option<Stop> {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<Stop>())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(bytes: &[u8], chunk: usize) -> (Result<(), Stop>, Seen) {
        let mut s = Scan::new(bytes, 1 << 30);
        let mut buf = vec![0u8; chunk];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return (Ok(()), s.seen()),
                Ok(_) => {}
                Err(e) => {
                    return (
                        Err(stop_of(&e).unwrap_or(Stop::TooLarge { limit: 0 })),
                        s.seen(),
                    );
                }
            }
        }
    }

    #[test]
    fn balanced_quotes_and_escapes_pass_at_any_chunk_size() {
        let text = b"a,b,c\n\"x, y\",\"he said \"\"hi\"\"\",z\n\"multi\nline\",2,3\n";
        for chunk in [1, 2, 3, 7, 64] {
            let (r, seen) = scan(text, chunk);
            assert_eq!(r, Ok(()), "chunk {chunk}");
            assert_eq!(seen.quoted_fields, 3, "chunk {chunk}");
            assert!(!seen.crlf && !seen.bom);
        }
    }

    #[test]
    fn an_unbalanced_quote_names_the_line_it_opened_on() {
        let text = b"a,b\n1,2\n3,\"open\n4,5\n6,7\n";
        for chunk in [1, 5, 64] {
            assert_eq!(scan(text, chunk).0, Err(Stop::UnbalancedQuote { line: 3 }));
        }
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_a_character() {
        let (r, seen) = scan(b"name,height\nx,5'10\"\ny,6\n", 4);
        assert_eq!(r, Ok(()));
        assert_eq!(seen.quoted_fields, 0);
    }

    #[test]
    fn bom_crlf_and_the_limit_are_seen() {
        let (r, seen) = scan(b"\xEF\xBB\xBF\"a\",b\r\n1,2\r\n", 3);
        assert_eq!(r, Ok(()));
        assert!(seen.bom && seen.crlf);
        assert_eq!(seen.quoted_fields, 1);
        let mut s = Scan::new(&b"0123456789"[..], 4);
        let mut buf = [0u8; 8];
        let err = s.read(&mut buf).err();
        assert_eq!(
            err.as_ref().and_then(stop_of),
            Some(Stop::TooLarge { limit: 4 })
        );
    }

    #[test]
    fn a_record_without_end_stops_at_the_cap_and_a_cr_at_a_chunk_end_is_judged_by_the_next() {
        let mut text = b"a,b\n1,2\n".to_vec();
        text.extend(std::iter::repeat_n(b',', (MAX_RECORD_BYTES + 10) as usize));
        assert_eq!(scan(&text, 8192).0, Err(Stop::RecordTooLong { line: 3 }));
        // "a\r" then "\nb": CR LF across two reads; "a\r" then "b": a lone CR.
        let (_, seen) = scan(b"a,b\r\n1,2\r\n", 4);
        assert!(seen.crlf);
        let (_, seen) = scan(b"a,b\rx,y\n", 4);
        assert!(!seen.crlf);
    }

    #[test]
    fn a_runaway_quoted_field_stops_before_the_end() {
        let mut text = b"a\n\"".to_vec();
        text.extend(std::iter::repeat_n(b'x', (MAX_QUOTED_BYTES + 10) as usize));
        assert_eq!(scan(&text, 8192).0, Err(Stop::UnbalancedQuote { line: 2 }));
    }
}
