//! `#[cacheow_test]`: parse the options and the test, then render the test
//! run inside a `cacheow_test::Scope`.

pub(crate) mod parse;
pub(crate) mod render;

use proc_macro2::TokenStream;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match parse::parse(attr, item.clone()) {
        Ok(test) => render::render(&test),
        Err(errors) => {
            let mut out = errors.to_compile_error();
            out.extend(item);
            out
        }
    }
}
