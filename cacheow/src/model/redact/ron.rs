//! Redaction of RON text (the payloads JSON cannot hold), token by token,
//! so that what is left still reads as RON: the value of a named field is
//! replaced whole, a secret inside a string is replaced in place, and a
//! bare token (a number) that is a secret becomes a redacted string.

use super::REDACTED;

/// What to redact, as [`super::Redaction`] says.
pub(super) struct Rules<'a> {
    pub(super) fields: &'a [String],
    pub(super) values: &'a [String],
}

impl Rules<'_> {
    fn is_field(&self, name: &str) -> bool {
        self.fields.iter().any(|field| field.eq_ignore_ascii_case(name))
    }

    fn in_string(&self, text: &str) -> String {
        self.values.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), REDACTED))
    }
}

/// `text`, redacted; text that is not RON as the tokens allow.
pub(super) fn redact(text: &str, rules: &Rules<'_>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            let end = string_end(rest);
            let quoted = &rest[1..end.saturating_sub(1).max(1)];
            // A string key of a map, followed by `:`, is a field too.
            let after = rest[end..].trim_start();
            if after.starts_with(':') && rules.is_field(quoted) {
                out.push_str(&rest[..end]);
                rest = redact_value_after_colon(&rest[end..], &mut out);
            } else {
                out.push('"');
                out.push_str(&rules.in_string(quoted));
                out.push('"');
                rest = &rest[end..];
            }
        } else if is_token_char(c) {
            let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
            let token = &rest[..end];
            let after = rest[end..].trim_start();
            if after.starts_with(':') && !after.starts_with("::") && rules.is_field(token) {
                out.push_str(token);
                rest = redact_value_after_colon(&rest[end..], &mut out);
            } else if rules.values.iter().any(|secret| secret == token) {
                out.push('"');
                out.push_str(REDACTED);
                out.push('"');
                rest = &rest[end..];
            } else {
                out.push_str(token);
                rest = &rest[end..];
            }
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Writes `: "[redacted]"` for the value after the colon at the start of
/// `rest` (after white space); what follows the value.
fn redact_value_after_colon<'a>(rest: &'a str, out: &mut String) -> &'a str {
    let colon = rest.find(':').unwrap_or(0);
    let after = &rest[colon + 1..];
    let value = after.trim_start();
    out.push_str(&rest[..colon + 1 + after.len() - value.len()]);
    out.push('"');
    out.push_str(REDACTED);
    out.push('"');
    &value[value_end(value)..]
}

fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '+' | '.')
}

/// The length of the string at the start of `text`, quotes included.
fn string_end(text: &str) -> usize {
    let mut escaped = false;
    for (at, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return at + 1,
            _ => {}
        }
    }
    text.len()
}

/// The length of the value at the start of `text`: a string, a bracketed
/// group (nested, strings inside it skipped), or a bare token, possibly
/// followed by a group (`Some(..)`, `Point(..)`).
fn value_end(text: &str) -> usize {
    let mut depth = 0usize;
    let mut at = 0;
    while at < text.len() {
        let c = text[at..].chars().next().unwrap_or(' ');
        match c {
            '"' => {
                at += string_end(&text[at..]);
                if depth == 0 {
                    return at;
                }
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return at,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return at + 1;
                }
            }
            ',' if depth == 0 => return at,
            _ => {}
        }
        at += c.len_utf8();
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(text: &str) -> String {
        let fields = ["api_key".to_owned()];
        let values = ["sk-9f".to_owned(), "424242".to_owned()];
        redact(text, &Rules { fields: &fields, values: &values })
    }

    #[test]
    fn fields_secrets_and_bare_secrets_are_replaced_and_it_stays_ron() {
        assert_eq!(
            redacted(r#"(api_key:"sk-9f",score:NaN,tags:{(1,2):"token sk-9f"},pin:424242)"#),
            r#"(api_key:"[redacted]",score:NaN,tags:{(1,2):"token [redacted]"},pin:"[redacted]")"#
        );
        assert_eq!(redacted(r#"{"API_KEY": Some((1, "x")), "n": 1}"#), r#"{"API_KEY": "[redacted]", "n": 1}"#);
        assert_eq!(
            redacted(r#"(note:"say \"sk-9f\"",api_key:[1,2])"#),
            r#"(note:"say \"[redacted]\"",api_key:"[redacted]")"#
        );
        assert_eq!(redacted("Point(x: 1.5, y: -2)"), "Point(x: 1.5, y: -2)");
    }
}
