//! A Harvest time entries export (`{"time_entries": [...]}`, as the API
//! pages and Harvest's JSON export give them, or a bare array) imported
//! while it is read: the file is read in chunks on a blocking thread, each
//! entry's bytes are found by a small scanner and read once into a time
//! entry, and batches of entries go to the store through a bounded channel,
//! so memory stays a few batches whatever the file's size. The whole import
//! is one transaction: an entry that is not a Harvest time entry, or JSON
//! that breaks off, rolls back everything it had stored.

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::store::{ImportReport, Store};

/// Entries parsed before they are handed to the store.
pub const FILE_BATCH: usize = 2_000;

/// How much of the file is read at a time.
const CHUNK: usize = 1 << 20;

/// Imports the export at `path`; `progress` is told the bytes read so far
/// and the file's size (for a progress bar).
pub async fn import_file(
    store: &Store,
    path: &Path,
    now: DateTime<Utc>,
    progress: impl Fn(u64, u64) + Send + 'static,
) -> Result<ImportReport> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", path.display())))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let (sender, mut batches) = mpsc::channel(2);
    let name = path.display().to_string();
    let reader = tokio::task::spawn_blocking(move || {
        use crate::store::FileBatch;
        let counted = Counted { inner: file, read: 0, size, progress };
        let outcome = stream(&name, counted, FILE_BATCH, |batch| {
            sender.blocking_send(FileBatch::Entries(crate::store::EntryBatch::new(batch))).is_ok()
        });
        // IMPORTANT: the store commits only on `End`: a reader that dies
        // (a panic) closes the channel without it, and nothing is kept.
        let _ = sender.blocking_send(match outcome {
            Ok(()) => FileBatch::End,
            Err(error) => FileBatch::Failed(error),
        });
    });
    let report = store.import_entry_batches(&mut batches, now).await;
    // The store stops early on an error: the reader sees the channel closed.
    drop(batches);
    let _ = reader.await;
    report
}

/// Reads the export `name` from `reader`, handing `sink` batches of at
/// most `size` entries; `sink` returns false to stop. The error names the
/// file and, for an entry, its position and id.
pub fn stream(
    name: &str,
    reader: impl Read,
    size: usize,
    mut sink: impl FnMut(Vec<harvest::TimeEntry>) -> bool,
) -> std::result::Result<(), String> {
    let mut scan = Scanner {
        reader,
        chunk: vec![0; CHUNK],
        buf: Vec::with_capacity(2 * CHUNK),
        pos: 0,
        done: false,
        name,
    };
    let mut batch = Vec::with_capacity(size);
    let mut index = 0;
    let mut entry = |bytes: &[u8]| -> std::result::Result<(), String> {
        index += 1;
        batch.push(read_entry(bytes, index, name)?);
        if batch.len() >= size && !sink(std::mem::replace(&mut batch, Vec::with_capacity(size))) {
            return Err(stopped());
        }
        Ok(())
    };
    match scan.next_byte()? {
        Some(b'[') => scan.entries(&mut entry)?,
        Some(b'{') => {
            let mut found = false;
            let mut first = true;
            loop {
                match scan.next_byte()? {
                    Some(b'}') if first => break,
                    Some(b'"') => scan.pos -= 1,
                    other => return Err(scan.unexpected(other, "a key")),
                }
                let key: String = scan.read_value()?;
                scan.expect(b':')?;
                if key == "time_entries" && !found {
                    found = true;
                    match scan.next_byte()? {
                        Some(b'[') => scan.entries(&mut entry)?,
                        _ => return Err(not_an_export(name, "`time_entries` to be an array")),
                    }
                } else {
                    scan.read_value::<IgnoredAny>()?;
                }
                first = false;
                match scan.next_byte()? {
                    Some(b',') => {}
                    Some(b'}') => break,
                    other => return Err(scan.unexpected(other, "`,` or `}`")),
                }
            }
            if !found {
                return Err(not_an_export(name, "{\"time_entries\": [...]} or an array"));
            }
        }
        None => return Err(scan.invalid("the file is empty")),
        Some(_) => return Err(not_an_export(name, "an object or an array")),
    }
    if let Some(byte) = scan.next_byte()? {
        return Err(scan.unexpected(Some(byte), "the end of the file"));
    }
    let rest = std::mem::take(&mut batch);
    if !rest.is_empty() && !sink(rest) {
        return Err(stopped());
    }
    Ok(())
}

/// Entry number `index` of the file, from its bytes.
fn read_entry(bytes: &[u8], index: usize, name: &str) -> std::result::Result<harvest::TimeEntry, String> {
    serde_json::from_slice(bytes).map_err(|error| {
        if let Err(syntax) = serde_json::from_slice::<IgnoredAny>(bytes) {
            return format!("{name} is not valid JSON: time entry #{index}: {syntax}");
        }
        #[derive(serde::Deserialize)]
        struct Id {
            id: Option<serde_json::Value>,
        }
        let id = serde_json::from_slice::<Id>(bytes)
            .ok()
            .and_then(|i| i.id)
            .map_or_else(|| "without id".into(), |id| id.to_string());
        // serde's position is within the entry, not the file: left out.
        let error = error.to_string();
        let error = error.rsplit_once(" at line ").map_or(error.as_str(), |(what, _)| what);
        format!("{name}: time entry #{index} ({id}) is not a valid Harvest time entry: {error}")
    })
}

fn stopped() -> String {
    "the import stopped".into()
}

fn not_an_export(name: &str, expected: &str) -> String {
    format!("{name} is not a Harvest time entries file (expected {expected})")
}

/// Finds the JSON values of the file in chunks without building them:
/// strings and nesting are followed byte by byte, and each value's bytes
/// go whole to serde, which reads (and checks) them.
struct Scanner<'n, R> {
    reader: R,
    /// What is read from the file at a time.
    chunk: Vec<u8>,
    /// What was read and not yet dropped: the value being scanned and after.
    buf: Vec<u8>,
    /// The next unread byte of `buf`; a refill drops what lies before it.
    pos: usize,
    done: bool,
    name: &'n str,
}

impl<R: Read> Scanner<'_, R> {
    /// Reads more of the file after what is in the buffer, dropping what
    /// lies before `pos`; false at the end of the file.
    fn fill(&mut self) -> std::result::Result<bool, String> {
        if self.done {
            return Ok(false);
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        let read = loop {
            match self.reader.read(&mut self.chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("cannot read {}: {e}", self.name)),
            }
        };
        self.buf.extend_from_slice(&self.chunk[..read]);
        self.done = read == 0;
        Ok(read > 0)
    }

    /// The next byte that is not white space, consumed.
    fn next_byte(&mut self) -> std::result::Result<Option<u8>, String> {
        loop {
            while let Some(&byte) = self.buf.get(self.pos) {
                self.pos += 1;
                if !byte.is_ascii_whitespace() {
                    return Ok(Some(byte));
                }
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn expect(&mut self, wanted: u8) -> std::result::Result<(), String> {
        match self.next_byte()? {
            Some(byte) if byte == wanted => Ok(()),
            other => Err(self.unexpected(other, &format!("`{}`", wanted as char))),
        }
    }

    /// The entries of the array whose `[` was just read, each handed to `each`.
    fn entries(
        &mut self,
        each: &mut impl FnMut(&[u8]) -> std::result::Result<(), String>,
    ) -> std::result::Result<(), String> {
        let mut first = true;
        loop {
            match self.next_byte()? {
                Some(b']') if first => return Ok(()),
                Some(_) => self.pos -= 1,
                None => return Err(self.invalid("the file ends inside the list of entries")),
            }
            let end = self.span()?;
            each(&self.buf[self.pos..end])?;
            self.pos = end;
            first = false;
            match self.next_byte()? {
                Some(b',') => {}
                Some(b']') => return Ok(()),
                other => return Err(self.unexpected(other, "`,` or `]` after an entry")),
            }
        }
    }

    /// The next value, read as a `T` (a key, or a value that is skipped).
    fn read_value<T: serde::de::DeserializeOwned>(&mut self) -> std::result::Result<T, String> {
        match self.next_byte()? {
            Some(_) => self.pos -= 1,
            None => return Err(self.invalid("the file ends where a value should be")),
        }
        let end = self.span()?;
        let value =
            serde_json::from_slice(&self.buf[self.pos..end]).map_err(|e| self.invalid(&e.to_string()))?;
        self.pos = end;
        Ok(value)
    }

    /// The end of the value that starts at `pos` (its bytes are then
    /// `buf[pos..end]`). Refills keep the value: they drop only what lies
    /// before it.
    fn span(&mut self) -> std::result::Result<usize, String> {
        let scalar = !matches!(self.buf[self.pos], b'{' | b'[' | b'"');
        let mut at = self.pos;
        let (mut depth, mut in_string, mut escaped) = (0u32, false, false);
        loop {
            let Some(&byte) = self.buf.get(at) else {
                let before = self.pos;
                let more = self.fill()?;
                at -= before - self.pos;
                if more {
                    continue;
                }
                if scalar {
                    return Ok(at);
                }
                return Err(self.invalid("the file ends inside a value"));
            };
            if scalar {
                if byte.is_ascii_whitespace() || matches!(byte, b',' | b']' | b'}') {
                    return Ok(at);
                }
                at += 1;
                continue;
            }
            at += 1;
            if in_string {
                if escaped {
                    escaped = false;
                } else if byte == b'\\' {
                    escaped = true;
                } else if byte == b'"' {
                    in_string = false;
                    if depth == 0 {
                        return Ok(at);
                    }
                } else {
                    // The rest of the string's text at once: to its end or
                    // an escape, or past what is read so far.
                    at += memchr::memchr2(b'"', b'\\', &self.buf[at..]).unwrap_or(self.buf.len() - at);
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(at);
                    }
                }
                _ => {}
            }
        }
    }

    fn invalid(&self, what: &str) -> String {
        format!("{} is not valid JSON: {what}", self.name)
    }

    fn unexpected(&self, found: Option<u8>, expected: &str) -> String {
        match found {
            Some(byte) => self.invalid(&format!("expected {expected}, found `{}`", byte as char)),
            None => self.invalid(&format!("the file ends where {expected} should be")),
        }
    }
}

/// A reader that reports how far it got.
struct Counted<R, P> {
    inner: R,
    read: u64,
    size: u64,
    progress: P,
}

impl<R: Read, P: Fn(u64, u64)> Read for Counted<R, P> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        (self.progress)(self.read, self.size);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64) -> serde_json::Value {
        serde_json::json!({
            "id": id, "spent_date": "2026-11-30", "hours": 0.5, "notes": "a \\\"quoted\\\" ] } [ note",
            "is_locked": false, "is_running": false, "is_billed": false, "timer_started_at": null,
            "created_at": "2026-11-30T10:00:00Z", "updated_at": "2026-11-30T10:00:00Z",
            "user": {"id": 1, "name": "Ada"}, "client": {"id": 2, "name": "Acme"},
            "project": {"id": 3, "name": "VPN"}, "task": {"id": 4, "name": "Support"},
            "external_reference": null
        })
    }

    /// A reader that gives at most `step` bytes a call: every value then
    /// spans refills of the scanner's buffer.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn batches(text: &str, size: usize) -> std::result::Result<Vec<Vec<i64>>, String> {
        let mut all = Vec::new();
        for step in [1, 3, 7, 1 << 20] {
            let mut out = Vec::new();
            stream("x.json", Trickle { bytes: text.as_bytes(), step }, size, |b| {
                out.push(b.iter().map(|e| e.id).collect());
                true
            })?;
            all.push(out);
        }
        assert!(all.windows(2).all(|w| w[0] == w[1]), "the same whatever the reads: {all:?}");
        Ok(all.remove(0))
    }

    #[test]
    fn an_export_comes_in_batches_from_an_object_or_an_array() {
        let entries: Vec<_> = (1..=5).map(entry).collect();
        let page = serde_json::json!({
            "per_page": 2000, "links": {"next": null, "odd": "]}\\\"{["}, "time_entries": entries, "total_pages": 1
        });
        assert_eq!(batches(&page.to_string(), 2), Ok(vec![vec![1, 2], vec![3, 4], vec![5]]));
        let pretty = serde_json::to_string_pretty(&serde_json::Value::Array(entries)).expect("json");
        assert_eq!(batches(&pretty, 5), Ok(vec![vec![1, 2, 3, 4, 5]]));
        assert_eq!(batches(r#" { "time_entries" : [ ] } "#, 5), Ok(vec![]));
        assert_eq!(batches("[]", 5), Ok(vec![]));
    }

    #[test]
    fn a_bad_file_is_named_with_its_problem() {
        let mut broken = entry(2);
        broken.as_object_mut().expect("an object").remove("spent_date");
        let page = serde_json::json!({"time_entries": [entry(1), broken]});
        let error = batches(&page.to_string(), 1).expect_err("a bad entry");
        assert!(error.contains("x.json: time entry #2 (2) is not a valid Harvest time entry"), "{error}");
        assert!(error.contains("spent_date"), "{error}");
        for (text, wanted) in [
            ("", "is not valid JSON: the file is empty"),
            ("{\"time_entries\": [", "is not valid JSON"),
            ("{\"time_entries\": [{\"id\": 1", "is not valid JSON"),
            ("{\"time_entries\": [], \"x\": tru }", "is not valid JSON"),
            ("{\"time_entries\": [{\"id\": 1,,}]}", "is not valid JSON: time entry #1"),
            ("{\"time_entries\": [] \"x\": 1}", "is not valid JSON: expected `,` or `}`"),
            ("{\"projects\": []}", "not a Harvest time entries file"),
            ("{\"time_entries\": {}}", "not a Harvest time entries file"),
            ("42", "not a Harvest time entries file"),
            ("[] trailing", "is not valid JSON"),
            ("[1]", "time entry #1 (without id) is not a valid Harvest time entry"),
        ] {
            let error = batches(text, 10).expect_err(text);
            assert!(error.contains(wanted), "{text}: {error}");
        }
    }

    #[test]
    fn a_long_string_spanning_many_reads_is_read_whole() {
        // 3 MiB of notes: past the 1 MiB chunk, through many refills.
        let mut long = entry(1);
        long["notes"] = serde_json::Value::String("x\"".repeat(1 << 20) + "end");
        let text = serde_json::json!({"time_entries": [long, entry(2)]}).to_string();
        let mut notes = Vec::new();
        stream("x.json", text.as_bytes(), 10, |batch| {
            notes.extend(batch.into_iter().map(|e| e.notes.map(|n| n.len())));
            true
        })
        .expect("read");
        assert_eq!(notes[0], Some(2 * (1 << 20) + 3), "every character of the long note");
        assert_eq!(notes.len(), 2);
    }

    #[test]
    fn a_sink_that_stops_ends_the_read() {
        let page = serde_json::json!({"time_entries": (1..=6).map(entry).collect::<Vec<_>>()});
        let mut seen = 0;
        let outcome = stream("x.json", page.to_string().as_bytes(), 2, |_| {
            seen += 1;
            false
        });
        assert_eq!((outcome, seen), (Err(stopped()), 1));
    }
}
