//! The text logs a run writes to stderr, one line per event:
//!
//! ```text
//! 2026-12-07T08:42:33.123456Z  INFO 111111111111 eu-west-1 (standalone): changed: updated threat_intel_set "FireHOL-Level1"
//! 2026-12-07T08:42:33.201877Z  WARN target{account="222222222222" region="eu-west-1"}: retrying guardduty:GetThreatIntelSet as 222222222222 in eu-west-1 (attempt 2 of 8) after HTTP 500 InternalServerErrorException
//! ```
//!
//! that is, tracing-subscriber's full format with the event's target left
//! out; a line logged while a target runs carries the target's span. With a
//! terminal the lines are coloured, and tracing-subscriber writes them.
//! Without one (a scheduled job, CI, a pipe), where a run writes a line for
//! each target that changed or failed, [`Plain`] and [`PlainFields`] write
//! them: the same bytes, with message texts made safe for a terminal in the
//! same way, but each text written whole when it has nothing to escape,
//! where tracing-subscriber writes it one character at a time, a span's
//! fields written in one piece, and the time written without `core::fmt`.
//! After a list change, with 34,000 changed targets, that is 7% of the
//! engine's instructions (docs/BENCHMARKS.md).

use std::fmt::{self, Debug, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// Install the text logs: `filter`'s events to `writer`, in colour when
/// `ansi` (a terminal), with [`Plain`] and [`PlainFields`] otherwise.
pub fn init<W>(filter: EnvFilter, writer: W, ansi: bool)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false)
        .with_ansi(ansi);
    if ansi {
        logs.init();
    } else {
        logs.event_format(Plain).fmt_fields(PlainFields).init();
    }
}

/// A line without colours: the time, the level, the spans with their
/// fields, the event's fields (see the module's docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut time = [0; TIME_LEN];
        w.write_str(timestamp(SystemTime::now(), &mut time))?;
        w.write_char(' ')?;
        w.write_str(level(event.metadata().level()))?;
        w.write_char(' ')?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                w.write_str(span.metadata().name())?;
                seen = true;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    w.write_char('{')?;
                    w.write_str(fields)?;
                    w.write_char('}')?;
                }
                w.write_char(':')?;
            }
            if seen {
                w.write_char(' ')?;
            }
        }
        ctx.format_fields(w.by_ref(), event)?;
        w.write_char('\n')
    }
}

/// The level, right-aligned in five characters.
fn level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        Level::ERROR => "ERROR",
    }
}

/// `2026-12-07T08:42:33.123456Z`.
const TIME_LEN: usize = 27;

/// `at` in UTC to the microsecond, as tracing-subscriber writes it, in
/// `buf`. A time before 1970 or after 9999 (a clock gone wrong) is written
/// as `<unknown time>`.
fn timestamp(at: SystemTime, buf: &mut [u8; TIME_LEN]) -> &str {
    let Ok(since) = at.duration_since(UNIX_EPOCH) else {
        return "<unknown time>";
    };
    let secs = since.as_secs();
    let (year, month, day) = civil(secs / 86_400);
    if year > 9999 {
        return "<unknown time>";
    }
    let day_secs = secs % 86_400;
    let mut put = |at: usize, value: u64, digits: usize| {
        let mut v = value;
        for i in (at..at + digits).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, day_secs / 3600, 2);
    put(14, day_secs / 60 % 60, 2);
    put(17, day_secs % 60, 2);
    put(20, u64::from(since.subsec_micros()), 6);
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ] {
        buf[i] = c;
    }
    buf[26] = b'Z';
    std::str::from_utf8(buf).unwrap_or("<unknown time>")
}

/// The (year, month, day) of a day counted from 1970-01-01, in the
/// proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The fields of events and spans, as tracing-subscriber's default
/// formatter writes them without colours: `name=value` (the value as
/// `Debug` writes it) separated by spaces, and a message first as its text,
/// made safe for a terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainFields;

impl<'w> FormatFields<'w> for PlainFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        // Written out in a text kept between lines, then once: a span's
        // fields go to a text of their own, which would grow field by field.
        // Taken, not borrowed: a value that logs while it is written gets an
        // empty text of its own.
        let mut v = Fields {
            text: TEXT.take(),
            empty: true,
            result: Ok(()),
        };
        v.text.clear();
        fields.record(&mut v);
        let written = v.result.and_then(|()| writer.write_str(&v.text));
        TEXT.set(v.text);
        written
    }
}

thread_local! {
    static TEXT: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

struct Fields {
    text: String,
    /// No field written yet (an empty message is one).
    empty: bool,
    result: fmt::Result,
}

impl Fields {
    fn pad(&mut self) {
        if !std::mem::replace(&mut self.empty, false) {
            self.text.push(' ');
        }
    }

    /// Whether to write this field: not after an error, and not the
    /// `log.` fields of a `log` record (its level is the event's own).
    fn wanted(&self, field: &Field) -> bool {
        self.result.is_ok() && !field.name().starts_with("log.")
    }

    fn name(field: &Field) -> &str {
        let name = field.name();
        name.strip_prefix("r#").unwrap_or(name)
    }

    /// A message: its text, made safe for a terminal.
    fn message(&mut self, value: &dyn Debug) {
        self.pad();
        let start = self.text.len();
        if let Err(e) = write!(self.text, "{value:?}") {
            self.result = Err(e);
        } else if needs_escape(&self.text[start..]) {
            let raw = self.text.split_off(start);
            self.result = escape(&mut self.text, &raw);
        }
    }

    fn named(&mut self, field: &Field, value: &dyn Debug) {
        self.pad();
        self.result = write!(self.text, "{}={value:?}", Self::name(field));
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.wanted(field) {
            return;
        }
        if field.name() == "message" {
            return self.message(&format_args!("{value}"));
        }
        // `Debug` of a text: quoted, with `"`, `\` and what is not
        // printable ASCII escaped; written as it is when none of those.
        if value
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
        {
            self.pad();
            self.text.push_str(Self::name(field));
            self.text.push_str("=\"");
            self.text.push_str(value);
            self.text.push('"');
        } else {
            self.named(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if !self.wanted(field) {
            return;
        }
        if field.name() == "message" {
            self.message(value);
        } else {
            self.named(field, value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !self.wanted(field) {
            return;
        }
        let text = Escaped(value);
        match value.source() {
            Some(source) => self.record_debug(
                field,
                &format_args!("{text} {}.sources={}", field.name(), Sources(source)),
            ),
            None => self.record_debug(field, &format_args!("{text}")),
        }
    }
}

/// An error's text, made safe for a terminal.
struct Escaped<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        escape(f, &self.0.to_string())
    }
}

impl Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An error and its sources, `[a, b]`, each made safe for a terminal.
struct Sources<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Sources<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        let mut at = Some(self.0);
        while let Some(e) = at {
            list.entry(&Escaped(e));
            at = e.source();
        }
        list.finish()
    }
}

/// Whether `text` holds something [`escape`] escapes. In UTF-8 a C1
/// control is 0xC2 then 0x80-0x9F, and 0xC2 starts nothing else that needs
/// escaping: a text without these bytes is written as it is.
fn needs_escape(text: &str) -> bool {
    text.bytes()
        .any(|b| matches!(b, 0x07 | 0x08 | 0x0c | 0x1b | 0x7f | 0xc2))
}

/// Write `text` with what could drive a terminal escaped, as
/// tracing-subscriber does: ESC, BEL, BS, FF and DEL as `\x1b` and so on,
/// the C1 controls (U+0080 to U+009F) as `\u{85}` and so on; the rest
/// (newlines and tabs included) as it is. A text with none of them, nearly
/// every one, is written whole.
fn escape(w: &mut impl fmt::Write, text: &str) -> fmt::Result {
    if !needs_escape(text) {
        return w.write_str(text);
    }
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '\x07' | '\x08' | '\x0c' | '\x1b' | '\x7f' => {
                w.write_str(&text[start..i])?;
                write!(w, "\\x{:02x}", c as u32)?;
            }
            '\u{80}'..='\u{9f}' => {
                w.write_str(&text[start..i])?;
                write!(w, "\\u{{{:x}}}", c as u32)?;
            }
            _ => continue,
        }
        start = i + c.len_utf8();
    }
    w.write_str(&text[start..])
}

/// Log lines kept in memory, for tests: a writer for a subscriber
/// (`move || buffer.clone()`), read back with [`Buffer::text`].
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("the buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
impl Buffer {
    /// What was written.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("the buffer").clone()).expect("UTF-8 logs")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug)]
    struct Failure {
        text: String,
        source: Option<Box<Failure>>,
    }

    impl fmt::Display for Failure {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.text)
        }
    }

    impl std::error::Error for Failure {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.source.as_deref().map(|s| s as _)
        }
    }

    /// What `say` logs with tracing-subscriber's own formatter and with
    /// ours, each time replaced by `<time>`, and ours as written.
    fn both(say: impl Fn()) -> (String, String, String) {
        let theirs = Buffer::default();
        let ours = Buffer::default();
        let base = |b: &Buffer| {
            let b = b.clone();
            tracing_subscriber::fmt()
                .with_writer(move || b.clone())
                .with_ansi(false)
                .with_target(false)
                .with_max_level(Level::TRACE)
        };
        tracing::subscriber::with_default(base(&theirs).finish(), &say);
        tracing::subscriber::with_default(
            base(&ours)
                .event_format(Plain)
                .fmt_fields(PlainFields)
                .finish(),
            &say,
        );
        let whole = ours.text();
        (untimed(&theirs.text()), untimed(&whole), whole)
    }

    /// `text` with every time (`9999-99-99T99:99:99.999999Z`) as `<time>`.
    fn untimed(text: &str) -> String {
        const SHAPE: &[u8; TIME_LEN] = b"9999-99-99T99:99:99.999999Z";
        let is_time = |w: &[u8]| {
            w.iter().zip(SHAPE).all(|(c, s)| {
                if *s == b'9' {
                    c.is_ascii_digit()
                } else {
                    c == s
                }
            })
        };
        let (bytes, mut out, mut i) = (text.as_bytes(), Vec::new(), 0);
        while i < bytes.len() {
            if bytes.len() - i >= TIME_LEN && is_time(&bytes[i..i + TIME_LEN]) {
                out.extend_from_slice(b"<time>");
                i += TIME_LEN;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("UTF-8")
    }

    fn same(say: impl Fn()) -> String {
        let (theirs, ours, _) = both(say);
        assert_eq!(ours, theirs);
        ours
    }

    #[test]
    fn a_targets_line_reads_as_tracing_subscriber_writes_it() {
        let lines = same(|| {
            let _in = tracing::info_span!("target", account = "222222222222", region = "eu-west-1")
                .entered();
            tracing::info!(
                "{} {} ({}): {}: updated {:?}",
                "222222222222",
                "eu-west-1",
                "standalone",
                "changed",
                "FireHOL-Level1"
            );
            tracing::warn!("set FireHOL-Level1 is still loading");
        });
        // What the README shows an operator.
        assert_eq!(
            lines,
            "<time>  INFO target{account=\"222222222222\" region=\"eu-west-1\"}: 222222222222 \
             eu-west-1 (standalone): changed: updated \"FireHOL-Level1\"\n<time>  \
             WARN target{account=\"222222222222\" region=\"eu-west-1\"}: set FireHOL-Level1 is \
             still loading\n"
        );
    }

    #[test]
    fn every_kind_of_field_and_span_reads_the_same() {
        let lines = same(|| {
            let outer = tracing::debug_span!("run", mode = "apply", wave = 2_u64);
            let _o = outer.enter();
            let bare = tracing::trace_span!("bare");
            let _b = bare.enter();
            let later = tracing::info_span!("later", account = tracing::field::Empty);
            later.record("account", "111111111111");
            let _l = later.enter();
            let e = Failure {
                text: "failed to read\x1b[31m".into(),
                source: Some(Box::new(Failure {
                    text: "timed out \u{85}".into(),
                    source: None,
                })),
            };
            let alone = Failure {
                text: "no such bucket".into(),
                source: None,
            };
            tracing::error!(kind = "Usage", "the event is not guardsync's: {}", "x");
            tracing::warn!(url = %"https://e/x?a=\"b\"", attempt = 3, error = %"reset", "retrying in {:?}", std::time::Duration::from_millis(1500));
            tracing::debug!(set = "a \"quoted\" \\ name é", r#type = "ipset", "looked");
            tracing::debug!(path = "C:\\dir", quote = "\"", "only ASCII, to escape");
            tracing::info!(ok = true, n = -4_i64, f = 1.5_f64, "numbers");
            tracing::error!(
                error = &e as &(dyn std::error::Error + 'static),
                "with sources"
            );
            tracing::error!(
                error = &alone as &(dyn std::error::Error + 'static),
                "alone"
            );
            tracing::info!(message = "a message field", other = "x");
            tracing::info!(summary = ?vec!["a", "b"]);
            tracing::trace!("");
            // An empty message is a field: the next one is spaced from it.
            tracing::info!(other = "x", "{}", "");
        });
        assert_eq!(lines.lines().count(), 11);
        assert!(lines.ends_with("}:  other=\"x\"\n"), "{lines}");
    }

    #[test]
    fn what_could_drive_a_terminal_is_escaped_the_same() {
        let lines = same(|| {
            tracing::warn!("ESC \x1b[2J BEL \x07 BS \x08 FF \x0c DEL \x7f C1 \u{85}\u{9b} end");
            tracing::warn!("tab\tand\nnewline and é and \u{a0} and \u{ff}");
            tracing::warn!(text = "field \x1b[31m", "{}", "\u{80}");
            let text = "as a str \x1b";
            tracing::warn!(message = text);
        });
        assert!(
            lines.contains(
                "ESC \\x1b[2J BEL \\x07 BS \\x08 FF \\x0c DEL \\x7f C1 \\u{85}\\u{9b} end"
            )
        );
    }

    #[test]
    fn the_time_is_utc_to_the_microsecond() {
        let at = |secs: u64, micros: u32| {
            let mut buf = [0; TIME_LEN];
            timestamp(
                UNIX_EPOCH + std::time::Duration::new(secs, micros * 1000 + 999),
                &mut buf,
            )
            .to_owned()
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
        assert_eq!(at(1_796_632_953, 123_456), "2026-12-07T08:42:33.123456Z");
        assert_eq!(at(4_107_542_399, 999_999), "2100-02-28T23:59:59.999999Z");
        assert_eq!(at(253_402_300_800, 0), "<unknown time>");
        let mut buf = [0; TIME_LEN];
        assert_eq!(
            timestamp(UNIX_EPOCH - std::time::Duration::from_secs(1), &mut buf),
            "<unknown time>"
        );
    }

    #[test]
    fn every_day_to_the_year_2400_is_the_calendars() {
        let leap =
            |y: u64| y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
        let (mut year, mut month, mut day) = (1970, 1, 1);
        for days in 0..157_000 {
            assert_eq!(civil(days), (year, month, day), "day {days}");
            let length = match month {
                2 if leap(year) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            day += 1;
            if day > length {
                (day, month) = (1, month + 1);
                if month > 12 {
                    (month, year) = (1, year + 1);
                }
            }
        }
    }

    #[test]
    fn a_whole_line_starts_with_the_time() {
        let (_, _, whole) = both(|| tracing::info!("hello"));
        let (time, rest) = whole.split_at(TIME_LEN);
        assert_eq!(rest, "  INFO hello\n");
        let shape: String = time
            .chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect();
        assert_eq!(shape, "9999-99-99T99:99:99.999999Z");
    }

    proptest! {
        #[test]
        fn any_text_reads_the_same(message in any::<String>(), field in any::<String>()) {
            let (theirs, ours, _) = both(|| {
                tracing::info!(field = field.as_str(), "{message}");
                tracing::info!(message = message.as_str());
            });
            prop_assert_eq!(ours, theirs);
        }
    }
}
