//! Procedural macros of [cacheow](https://docs.rs/cacheow).
//!
//! Use them through the `cacheow` crate (`use cacheow::cacheow;`): the
//! expansion refers to `::cacheow::__private`, which only that crate provides.
//!
//! Each entry point hands off to three stages that work on `proc_macro2`
//! tokens, so that each one is unit-testable from strings:
//! `parse` reads the attribute and the function, `validate` collects every
//! error at once, and `render` writes the expansion.

mod body_hash;
mod depends;
mod error;
mod output;
mod parse;
mod policy;
mod render;
mod test;
mod validate;

use proc_macro::TokenStream;

/// Records, caches and mocks the outcomes of a function.
///
/// See the `cacheow` crate for the documentation.
#[proc_macro_attribute]
pub fn cacheow(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into()).into()
}

/// Records and replays a test's decorated calls in fixtures.
///
/// See the `cacheow-test` crate for the documentation.
#[proc_macro_attribute]
pub fn cacheow_test(attr: TokenStream, item: TokenStream) -> TokenStream {
    test::expand(attr.into(), item.into()).into()
}

fn expand(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let expanded = match parse::parse(attr, item.clone()) {
        Ok(function) => match validate::validate(&function) {
            Ok(()) => render::render(&function),
            Err(errors) => render::fallback(&function, errors),
        },
        Err(errors) => {
            // The item did not even parse as a function: give the compiler
            // back what it gave us, so that it reports its own errors too.
            let mut out = errors.to_compile_error();
            out.extend(item);
            out
        }
    };
    if std::env::var_os("CACHEOW_MACRO_DEBUG").is_some() {
        // The documented way to see an expansion without cargo-expand.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("{expanded}");
        }
    }
    expanded
}
