//! The hash of a function's body, that fixtures and shared outcomes carry
//! so that an outcome recorded by another body can be told (drift).
//!
//! It hashes a walk of the body's tokens, not their `to_string()`, whose
//! spacing can change between toolchains: each token's kind and text, and
//! each group's delimiters. Tokens carry no comments and no layout, so a
//! reformatting or a comment edit keeps the hash. A macro call is hashed as
//! the tokens written, not its expansion.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use xxhash_rust::xxh3::Xxh3;

/// The body hash of `block`, as 16 hex digits.
pub(crate) fn of(block: &syn::Block) -> String {
    let mut hasher = Xxh3::new();
    walk(block.to_token_stream(), &mut hasher);
    format!("{:016x}", hasher.digest())
}

fn walk(tokens: TokenStream, hasher: &mut Xxh3) {
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => (b'(', b')'),
                    Delimiter::Brace => (b'{', b'}'),
                    Delimiter::Bracket => (b'[', b']'),
                    Delimiter::None => (b'<', b'>'),
                };
                hasher.update(&[b'g', open]);
                walk(group.stream(), hasher);
                hasher.update(&[close]);
            }
            TokenTree::Ident(ident) => part(hasher, b'i', &ident.to_string()),
            TokenTree::Punct(punct) => {
                let joint = if punct.spacing() == Spacing::Joint { b'j' } else { b'a' };
                let mut ch = [0; 4];
                hasher.update(&[b'p', joint]);
                hasher.update(punct.as_char().encode_utf8(&mut ch).as_bytes());
            }
            TokenTree::Literal(literal) => part(hasher, b'l', &literal.to_string()),
        }
    }
}

/// A token's kind, its text, and an end no text holds.
fn part(hasher: &mut Xxh3, kind: u8, text: &str) {
    hasher.update(&[kind]);
    hasher.update(text.as_bytes());
    hasher.update(&[0xff]);
}

#[cfg(test)]
mod tests {
    use super::of;

    fn hash(body: &str) -> String {
        of(&syn::parse_str(body).unwrap_or_else(|error| panic!("{body}: {error}")))
    }

    #[test]
    fn layout_and_comments_keep_the_hash_and_code_changes_it() {
        let plain = hash("{ let x = a + 1; x * 2 }");
        assert_eq!(plain, hash("{\n    // double it\n    let x = a + 1;\n    x * 2 /* done */\n}"));
        assert_ne!(plain, hash("{ let x = a + 2; x * 2 }"), "a literal");
        assert_ne!(plain, hash("{ let x = a + 1; x * 3 }"));
        assert_ne!(plain, hash("{ let y = a + 1; y * 2 }"), "a name");
        assert_ne!(hash("{ a && b }"), hash("{ a & &b }"), "a joint operator is not two");
        assert_ne!(hash("{ f!(x) }"), hash("{ f!(y) }"), "a macro's tokens");
        assert_eq!(plain.len(), 16);
    }
}
