//! A string written as a JSON string literal, for the reports this crate
//! (and the `btf` tool) print as JSON.

use core::fmt::{self, Write};

/// `s` as a JSON string literal (RFC 8259): quoted, with `"` and `\`
/// escaped, and every control character (U+0000–U+001F, and U+007F) as
/// `\uXXXX` or its short escape. Other characters are written as they are
/// (the output is UTF-8, as JSON text must be).
///
/// ```
/// use btf_core::dump::JsonStr;
/// assert_eq!(JsonStr("a\"b\\c\n\u{1b}").to_string(), r#""a\"b\\c\n\u001b""#);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct JsonStr<'a>(pub &'a str);

impl fmt::Display for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        let mut plain = 0;
        for (i, c) in self.0.char_indices() {
            let short = match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                c if c < ' ' || c == '\u{7f}' => "",
                _ => continue,
            };
            f.write_str(self.0.get(plain..i).unwrap_or_default())?;
            plain = i + c.len_utf8();
            if short.is_empty() {
                write!(f, "\\u{:04x}", u32::from(c))?;
            } else {
                f.write_str(short)?;
            }
        }
        f.write_str(self.0.get(plain..).unwrap_or_default())?;
        f.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    use super::JsonStr;
    use std::format;

    #[test]
    fn escapes_what_json_requires() {
        assert_eq!(format!("{}", JsonStr("")), "\"\"");
        assert_eq!(format!("{}", JsonStr("plain ✓")), "\"plain ✓\"");
        assert_eq!(
            format!("{}", JsonStr("\"\\\n\t\r\u{0}\u{1f}\u{7f}x")),
            "\"\\\"\\\\\\n\\t\\r\\u0000\\u001f\\u007fx\""
        );
    }
}
