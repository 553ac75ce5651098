//! Reads `#[cacheow_test(...)]` and the test it decorates, collecting every
//! error at once.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, LitStr, Meta, Path, Token};

use crate::error::{self, Errors};

/// A decorated test.
pub(crate) struct Test {
    pub(crate) item: syn::ItemFn,
    pub(crate) options: Options,
    /// Whether a test attribute (`#[test]`, `#[tokio::test]`, ...) is on it.
    pub(crate) has_test_attr: bool,
    /// Whether it is a `#[should_panic]` test.
    pub(crate) should_panic: bool,
}

#[derive(Default)]
pub(crate) struct Options {
    pub(crate) record: Option<syn::Ident>,
    /// (mode, function) pairs.
    pub(crate) pins: Vec<(syn::Ident, Path)>,
    pub(crate) fixtures: Option<Expr>,
    pub(crate) redact_fields: Vec<LitStr>,
    pub(crate) redact_env: Vec<LitStr>,
    pub(crate) snapshot: bool,
    pub(crate) save_on_failure: bool,
    pub(crate) strict: bool,
}

pub(crate) fn parse(attr: TokenStream, item: TokenStream) -> Result<Test, Errors> {
    let mut errors = Errors::default();
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?;
    let item: syn::ItemFn = syn::parse2(item)?;
    let mut options = Options::default();
    for meta in metas {
        if let Err(error) = read_option(&mut options, &meta) {
            errors.push_error(error);
        }
    }
    let last_segment = |attr: &syn::Attribute| attr.path().segments.last().map(|segment| segment.ident.to_string());
    let has_test_attr = item.attrs.iter().any(|attr| last_segment(attr).as_deref() == Some("test"));
    if let Some(rstest) = item.attrs.iter().find(|attr| last_segment(attr).as_deref() == Some("rstest")) {
        errors.push(rstest, error::ABOVE_RSTEST);
    }
    if item.sig.asyncness.is_some() && !has_test_attr {
        errors.push(&item.sig.ident, error::ASYNC_WITHOUT_RUNTIME);
    }
    let should_panic = item.attrs.iter().find(|attr| last_segment(attr).as_deref() == Some("should_panic"));
    if let (Some(attr), Some(_)) = (should_panic, item.sig.asyncness) {
        errors.push(attr, error::ASYNC_SHOULD_PANIC);
    }
    errors.finish()?;
    Ok(Test { should_panic: should_panic.is_some(), item, options, has_test_attr })
}

fn read_option(options: &mut Options, meta: &Meta) -> syn::Result<()> {
    let name = meta.path().get_ident().map(ToString::to_string).unwrap_or_default();
    match (name.as_str(), meta) {
        ("record", Meta::NameValue(value)) => {
            let mode = match &value.value {
                Expr::Lit(syn::ExprLit { lit: Lit::Str(mode), .. }) => mode,
                other => return Err(syn::Error::new_spanned(other, error::RECORD_MODE)),
            };
            let ident = match mode.value().as_str() {
                "none" => "None",
                "once" => "Once",
                "all" => "All",
                _ => return Err(syn::Error::new_spanned(mode, error::RECORD_MODE)),
            };
            options.record = Some(syn::Ident::new(ident, mode.span()));
        }
        ("mock" | "cache" | "default", Meta::List(list)) => {
            let mode = match name.as_str() {
                "mock" => "Mock",
                "cache" => "Cache",
                _ => "Default",
            };
            for path in list.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated)? {
                options.pins.push((syn::Ident::new(mode, list.path.span()), path));
            }
        }
        ("fixtures", Meta::NameValue(value)) => options.fixtures = Some(value.value.clone()),
        ("redact", Meta::List(list)) => {
            options.redact_fields.extend(list.parse_args_with(Punctuated::<LitStr, Token![,]>::parse_terminated)?);
        }
        ("redact_env", Meta::List(list)) => {
            options.redact_env.extend(list.parse_args_with(Punctuated::<LitStr, Token![,]>::parse_terminated)?);
        }
        ("snapshot", Meta::Path(_)) => options.snapshot = true,
        ("save_on_failure", Meta::Path(_)) => options.save_on_failure = true,
        ("strict", Meta::Path(_)) => options.strict = true,
        _ => return Err(syn::Error::new_spanned(meta, error::UNKNOWN_TEST_OPTION)),
    }
    Ok(())
}

use syn::spanned::Spanned;

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(attr: TokenStream, item: TokenStream) -> Vec<String> {
        parse(attr, item).err().map(|errors| errors.messages()).unwrap_or_default()
    }

    #[test]
    fn reads_every_option() {
        let test = parse(
            quote!(
                record = "none",
                mock(fetch, api::Client::get),
                cache(score),
                redact("api_key"),
                redact_env("TOKEN"),
                fixtures = "fx",
                snapshot,
                save_on_failure,
                strict
            ),
            quote! { #[tokio::test] async fn t() {} },
        )
        .unwrap_or_else(|errors| panic!("{:?}", errors.messages()));
        let options = &test.options;
        assert_eq!(options.record.as_ref().map(ToString::to_string).as_deref(), Some("None"));
        assert_eq!(options.pins.len(), 3);
        assert!(options.snapshot && options.save_on_failure && options.strict && options.fixtures.is_some());
        assert!(test.has_test_attr);
    }

    #[test]
    fn stacks_that_cannot_work_say_what_to_do() {
        assert_eq!(errors(quote!(), quote! { #[rstest] #[case(1)] fn t(#[case] n: u8) {} }), [error::ABOVE_RSTEST]);
        assert_eq!(errors(quote!(), quote! { async fn t() {} }), [error::ASYNC_WITHOUT_RUNTIME]);
        assert_eq!(
            errors(quote!(record = "twice", retries = 3), quote! { fn t() {} }),
            [error::RECORD_MODE, error::UNKNOWN_TEST_OPTION]
        );
    }
}
