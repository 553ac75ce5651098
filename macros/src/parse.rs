//! Reads `#[cacheow(...)]` and the function it decorates.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident};
use syn::ext::IdentExt;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, FnArg, Meta, Pat, Token};

use crate::depends::Depends;
use crate::error::{self, Errors};
use crate::policy::PolicyOptions;

/// A decorated function, ready to validate and render.
pub(crate) struct Function {
    /// The function as written, minus the `#[cacheow(...)]` attributes of
    /// its parameters and with destructuring patterns replaced by plain names.
    pub(crate) item: syn::ItemFn,
    /// The options of the function attribute.
    pub(crate) options: Options,
    /// Options of the function attribute that this version does not know,
    /// or whose value is not valid, with the message to report.
    pub(crate) option_errors: Vec<syn::Error>,
    /// Errors found while reading the parameters' attributes.
    pub(crate) param_errors: Vec<syn::Error>,
    /// The parameters, in order, without the receiver.
    pub(crate) params: Vec<Param>,
    /// `let` statements that restore destructuring patterns in the body.
    pub(crate) destructure: Vec<TokenStream>,
}

/// One parameter of the function, other than `self`.
pub(crate) struct Param {
    /// Its name in the arguments preview: the binding, or `argN` for a pattern.
    pub(crate) name: String,
    /// The local variable that holds its value.
    pub(crate) binding: syn::Ident,
    /// Its type, for the spans of the "cannot be a key" errors.
    pub(crate) ty: syn::Type,
    /// Whether it is part of the cache key.
    pub(crate) in_key: bool,
}

/// `#[cacheow(name = "...", version = N, record_panics = false)]`.
#[derive(Default)]
pub(crate) struct Options {
    /// The name the function id derives from, instead of its path.
    pub(crate) name: Option<String>,
    /// A version of the function's behaviour: each has outcomes of its own.
    pub(crate) version: u32,
    /// Whether a panic of the function is recorded as an outcome.
    pub(crate) record_panics: bool,
    /// `ttl`, `cache_if` and the other cache-policy options.
    pub(crate) policy: PolicyOptions,
    /// What else its behaviour depends on, for its body hash.
    pub(crate) depends: Depends,
    /// `verify = "exact"`: a verify run compares values, not their shape.
    pub(crate) verify_exact: bool,
}

pub(crate) fn parse(attr: TokenStream, item: TokenStream) -> Result<Function, Errors> {
    let metas: Vec<Meta> = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?.into_iter().collect();
    let (options, option_errors) = read_options(metas);
    let mut item: syn::ItemFn = syn::parse2(item)?;
    let mut params = Vec::new();
    let mut destructure = Vec::new();
    let mut param_errors = Vec::new();
    for (position, input) in item.sig.inputs.iter_mut().enumerate() {
        match input {
            FnArg::Receiver(receiver) => {
                if let Some(attr) = take_cacheow_attrs(&mut receiver.attrs).into_iter().next() {
                    param_errors.push(syn::Error::new_spanned(attr, error::SKIP_RECEIVER));
                }
            }
            FnArg::Typed(typed) => {
                let skip = match read_param_options(take_cacheow_attrs(&mut typed.attrs)) {
                    Ok(skip) => skip,
                    Err(error) => {
                        param_errors.push(error);
                        false
                    }
                };
                let param = match &*typed.pat {
                    Pat::Ident(pat) if pat.subpat.is_none() => Param {
                        // `r#type` is named `type` in the arguments preview.
                        name: pat.ident.unraw().to_string(),
                        binding: pat.ident.clone(),
                        ty: (*typed.ty).clone(),
                        in_key: !skip,
                    },
                    // `_` is never read by the body, so it cannot change the outcome.
                    Pat::Wild(_) => {
                        let binding = format_ident!("__cacheow_arg{}", position);
                        *typed.pat = syn::parse_quote!(#binding);
                        Param { name: format!("arg{position}"), binding, ty: (*typed.ty).clone(), in_key: false }
                    }
                    pattern => {
                        let binding = format_ident!("__cacheow_arg{}", position, span = Span::call_site());
                        let pattern = pattern.to_token_stream();
                        destructure.push(quote::quote! { let #pattern = #binding; });
                        *typed.pat = syn::parse_quote!(#binding);
                        Param { name: format!("arg{position}"), binding, ty: (*typed.ty).clone(), in_key: !skip }
                    }
                };
                params.push(param);
            }
        }
    }
    Ok(Function { item, options, option_errors, param_errors, params, destructure })
}

fn read_options(metas: Vec<Meta>) -> (Options, Vec<syn::Error>) {
    let mut options = Options { record_panics: true, ..Options::default() };
    let mut errors = Vec::new();
    for meta in metas {
        if let Some(read) = options.policy.read(&meta) {
            errors.extend(read.err());
            continue;
        }
        if let Meta::List(list) = &meta
            && list.path.is_ident("depends")
        {
            errors.extend(options.depends.read(list).err());
            continue;
        }
        let Meta::NameValue(pair) = &meta else {
            errors.push(syn::Error::new_spanned(&meta, error::UNKNOWN_OPTION));
            continue;
        };
        let literal = match &pair.value {
            syn::Expr::Lit(syn::ExprLit { lit, .. }) => Some(lit),
            _ => None,
        };
        let name = pair.path.get_ident().map(ToString::to_string).unwrap_or_default();
        match (name.as_str(), literal) {
            ("name", Some(syn::Lit::Str(text))) if !text.value().trim().is_empty() => {
                options.name = Some(text.value());
            }
            ("name", _) => errors.push(syn::Error::new_spanned(&pair.value, error::NAME_OPTION)),
            ("version", Some(syn::Lit::Int(number))) if number.base10_parse::<u32>().is_ok() => {
                options.version = number.base10_parse().unwrap_or_default();
            }
            ("version", _) => errors.push(syn::Error::new_spanned(&pair.value, error::VERSION_OPTION)),
            ("record_panics", Some(syn::Lit::Bool(flag))) => options.record_panics = flag.value,
            ("verify", Some(syn::Lit::Str(how))) if matches!(how.value().as_str(), "exact" | "shape") => {
                options.verify_exact = how.value() == "exact";
            }
            ("verify", _) => errors.push(syn::Error::new_spanned(&pair.value, error::VERIFY_OPTION)),
            ("record_panics", _) => errors.push(syn::Error::new_spanned(&pair.value, error::RECORD_PANICS_OPTION)),
            _ => errors.push(syn::Error::new_spanned(&meta, error::UNKNOWN_OPTION)),
        }
    }
    (options, errors)
}

/// Removes the `#[cacheow(...)]` attributes from a parameter: the compiler
/// does not allow attribute macros there, they are only read by this macro.
fn take_cacheow_attrs(attrs: &mut Vec<Attribute>) -> Vec<Attribute> {
    let (ours, others) = attrs.drain(..).partition(|attr| attr.path().is_ident("cacheow"));
    *attrs = others;
    ours
}

/// Reads `#[cacheow(skip)]`; returns whether the parameter is skipped.
fn read_param_options(attrs: Vec<Attribute>) -> syn::Result<bool> {
    let mut skip = false;
    let mut errors: Option<syn::Error> = None;
    for attr in attrs {
        let metas = match &attr.meta {
            Meta::List(list) => list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?,
            other => {
                combine(&mut errors, syn::Error::new_spanned(other, error::UNKNOWN_PARAM_OPTION));
                continue;
            }
        };
        for meta in metas {
            match &meta {
                Meta::Path(path) if path.is_ident("skip") => skip = true,
                _ => combine(&mut errors, syn::Error::new_spanned(meta, error::UNKNOWN_PARAM_OPTION)),
            }
        }
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(skip),
    }
}

fn combine(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(errors) => errors.combine(error),
        None => *errors = Some(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse_ok(attr: TokenStream, item: TokenStream) -> Function {
        match parse(attr, item) {
            Ok(function) => function,
            Err(errors) => panic!("{:?}", errors.messages()),
        }
    }

    #[test]
    fn reads_names_and_skips() {
        let function = parse_ok(
            quote!(),
            quote! {
                fn fetch(&self, id: u32, #[cacheow(skip)] client: &Client, r#type: String) -> u32 { id }
            },
        );
        let names: Vec<_> = function.params.iter().map(|p| (p.name.as_str(), p.in_key)).collect();
        assert_eq!(names, [("id", true), ("client", false), ("type", true)]);
        // The parameter attribute is gone from the output.
        assert!(!function.item.to_token_stream().to_string().contains("cacheow"));
    }

    #[test]
    fn destructuring_patterns_get_a_binding() {
        let function = parse_ok(quote!(), quote! { fn f((a, b): (u32, u32), _: u8) -> u32 { a + b } });
        assert_eq!(function.params[0].name, "arg0");
        assert_eq!(function.params[0].binding.to_string(), "__cacheow_arg0");
        assert!(function.params[0].in_key);
        assert!(!function.params[1].in_key, "`_` cannot change the outcome");
        assert_eq!(function.destructure.len(), 1);
    }

    #[test]
    fn unknown_parameter_option_is_reported() {
        let function = parse_ok(quote!(), quote! { fn f(#[cacheow(skipp)] n: u32) -> u32 { n } });
        assert_eq!(function.param_errors[0].to_string(), error::UNKNOWN_PARAM_OPTION);
    }

    #[test]
    fn reads_function_options_and_keeps_bad_ones_for_validation() {
        let function = parse_ok(quote!(name = "fetch_user", version = 2, record_panics = false), quote! { fn f() {} });
        assert_eq!(function.options.name.as_deref(), Some("fetch_user"));
        assert_eq!((function.options.version, function.options.record_panics), (2, false));
        assert!(function.option_errors.is_empty());
        let function = parse_ok(quote!(ttl = 3, version = "two", name = "", record_panics), quote! { fn f() {} });
        let messages: Vec<String> = function.option_errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages, [error::TTL_OPTION, error::VERSION_OPTION, error::NAME_OPTION, error::UNKNOWN_OPTION]);
        assert!(parse_ok(quote!(), quote! { fn f() {} }).options.record_panics, "on by default");
    }
}
