//! The cache-policy options of `#[cacheow(...)]`: `ttl`, `serve_stale`,
//! `ttl_from`, `cache_if`, `cache_errors`, `validate`, `tags`, `dedupe` and
//! `wait`, read, checked against the function, and rendered.

use std::time::Duration;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Token};

use crate::error::{self, Errors};

/// The policy options given.
#[derive(Default)]
pub(crate) struct PolicyOptions {
    pub(crate) ttl: Option<Duration>,
    /// The `serve_stale` word, for the spans of its errors.
    pub(crate) serve_stale: Option<syn::Path>,
    pub(crate) ttl_from: Option<syn::Path>,
    pub(crate) cache_if: Option<syn::Path>,
    /// `cache_errors = false`, with its span.
    pub(crate) cache_errors: Option<(bool, syn::LitBool)>,
    pub(crate) validate: Option<syn::Path>,
    /// `key = f`: the cache key is what `f` returns, given every parameter.
    pub(crate) key: Option<syn::Path>,
    pub(crate) tags: Vec<String>,
    /// `redact("api_key", ...)`: fields written as `[redacted]`.
    pub(crate) redact: Vec<String>,
    /// `dedupe = false` or `"processes"`; in the process when not given.
    pub(crate) dedupe: Option<DedupeOption>,
    pub(crate) wait: Option<Duration>,
    /// `cleanup = "30m"`, with its span.
    pub(crate) cleanup: Option<(Duration, syn::Expr)>,
    /// `shared = false`: kept off the shared tier (Redis).
    pub(crate) shared: Option<bool>,
    /// `on_change = "rerecord"`: what cache mode does with an outcome of
    /// another body; `Warn` when not given.
    pub(crate) on_change: Option<&'static str>,
}

#[derive(Clone, Copy)]
pub(crate) enum DedupeOption {
    Off,
    Process,
    Processes,
}

impl PolicyOptions {
    /// Reads `meta` if it is a policy option: `None` when it is another.
    pub(crate) fn read(&mut self, meta: &Meta) -> Option<Result<(), syn::Error>> {
        let name = meta.path().get_ident()?.to_string();
        let result = match (name.as_str(), meta) {
            ("serve_stale", Meta::Path(path)) => {
                self.serve_stale = Some(path.clone());
                Ok(())
            }
            ("tags", Meta::List(list)) => read_names(list, error::TAGS_OPTION).map(|tags| self.tags = tags),
            ("redact", Meta::List(list)) => read_names(list, error::REDACT_OPTION).map(|fields| self.redact = fields),
            ("ttl", Meta::NameValue(pair)) => duration(&pair.value, error::TTL_OPTION).map(|ttl| self.ttl = Some(ttl)),
            ("wait", Meta::NameValue(pair)) => {
                duration(&pair.value, error::WAIT_OPTION).map(|wait| self.wait = Some(wait))
            }
            ("cleanup", Meta::NameValue(pair)) => duration(&pair.value, error::CLEANUP_OPTION)
                .map(|every| self.cleanup = Some((every, pair.value.clone()))),
            ("ttl_from", Meta::NameValue(pair)) => path(&pair.value, error::FN_OPTION).map(|f| self.ttl_from = Some(f)),
            ("cache_if", Meta::NameValue(pair)) => path(&pair.value, error::FN_OPTION).map(|f| self.cache_if = Some(f)),
            ("validate", Meta::NameValue(pair)) => path(&pair.value, error::FN_OPTION).map(|f| self.validate = Some(f)),
            ("key", Meta::NameValue(pair)) => path(&pair.value, error::FN_OPTION).map(|f| self.key = Some(f)),
            ("cache_errors", Meta::NameValue(pair)) => match &pair.value {
                Expr::Lit(ExprLit { lit: Lit::Bool(flag), .. }) => {
                    self.cache_errors = Some((flag.value, flag.clone()));
                    Ok(())
                }
                other => Err(syn::Error::new_spanned(other, error::CACHE_ERRORS_OPTION)),
            },
            ("shared", Meta::NameValue(pair)) => match &pair.value {
                Expr::Lit(ExprLit { lit: Lit::Bool(flag), .. }) => {
                    self.shared = Some(flag.value);
                    Ok(())
                }
                other => Err(syn::Error::new_spanned(other, error::SHARED_OPTION)),
            },
            ("dedupe", Meta::NameValue(pair)) => read_dedupe(&pair.value).map(|dedupe| self.dedupe = Some(dedupe)),
            ("on_change", Meta::NameValue(pair)) => match &pair.value {
                Expr::Lit(ExprLit { lit: Lit::Str(how), .. }) => {
                    let variant = match how.value().as_str() {
                        "warn" => "Warn",
                        "rerecord" => "Rerecord",
                        "ignore" => "Ignore",
                        _ => return Some(Err(syn::Error::new_spanned(how, error::ON_CHANGE_OPTION))),
                    };
                    self.on_change = Some(variant);
                    Ok(())
                }
                other => Err(syn::Error::new_spanned(other, error::ON_CHANGE_OPTION)),
            },
            (
                "serve_stale" | "tags" | "ttl" | "wait" | "ttl_from" | "cache_if" | "validate" | "cache_errors"
                | "dedupe" | "shared" | "on_change",
                other,
            ) => Err(syn::Error::new_spanned(other, error::POLICY_SHAPE)),
            _ => return None,
        };
        Some(result)
    }

    /// What cannot work with this function: every error at once.
    pub(crate) fn check(&self, sig: &syn::Signature, is_sequence: bool, errors: &mut Errors) {
        if let Some(word) = &self.serve_stale {
            if self.ttl.is_none() && self.ttl_from.is_none() {
                errors.push(word, error::STALE_WITHOUT_TTL);
            }
            if is_sequence {
                errors.push(word, error::STALE_SEQUENCE);
            }
            for input in &sig.inputs {
                let borrowed = match input {
                    syn::FnArg::Receiver(receiver) => receiver.reference.is_some() || receiver.colon_token.is_some(),
                    syn::FnArg::Typed(typed) => borrows(typed.ty.to_token_stream()),
                };
                if borrowed {
                    errors.push(input, error::STALE_BORROWED);
                }
            }
        }
        if let Some((_, every)) = &self.cleanup
            && self.ttl.is_none()
        {
            errors.push(every, error::CLEANUP_WITHOUT_TTL);
        }
        if let Some((_, flag)) = &self.cache_errors
            && !returns_result(&sig.output)
        {
            errors.push(flag, error::CACHE_ERRORS_WITHOUT_RESULT);
        }
    }

    /// The `Policy` of the function's handle.
    pub(crate) fn render_policy(&self) -> TokenStream {
        let option_duration = |duration: Option<Duration>| match duration {
            Some(duration) => {
                let duration = render_duration(duration);
                quote!(::core::option::Option::Some(#duration))
            }
            None => quote!(::core::option::Option::None),
        };
        let ttl = option_duration(self.ttl);
        let cleanup = option_duration(self.cleanup.as_ref().map(|(every, _)| *every));
        let serve_stale = self.serve_stale.is_some();
        let cache_errors = self.cache_errors.as_ref().is_none_or(|(flag, _)| *flag);
        let (tags, redact) = (&self.tags, &self.redact);
        let dedupe = match self.dedupe {
            Some(DedupeOption::Off) => quote!(Off),
            Some(DedupeOption::Process) | None => quote!(Process),
            Some(DedupeOption::Processes) => quote!(Processes),
        };
        let wait = render_duration(self.wait.unwrap_or(Duration::from_secs(30)));
        let shared = self.shared.unwrap_or(true);
        let on_change = syn::Ident::new(self.on_change.unwrap_or("Warn"), proc_macro2::Span::call_site());
        quote! {
            ::cacheow::__private::Policy {
                ttl: #ttl,
                serve_stale: #serve_stale,
                cache_errors: #cache_errors,
                tags: &[#(#tags),*],
                dedupe: ::cacheow::__private::Dedupe::#dedupe,
                wait: #wait,
                cleanup: #cleanup,
                redact: &[#(#redact),*],
                shared: #shared,
                on_change: ::cacheow::__private::OnChange::#on_change,
            }
        }
    }

    /// The `Rules` of a call, for the return type `output`.
    pub(crate) fn render_rules(&self, output: &TokenStream) -> TokenStream {
        let rule = |path: &Option<syn::Path>, wrap: TokenStream| match path {
            Some(path) => quote!(::cacheow::__private::#wrap::<#output>(#path)),
            None => quote!(::core::option::Option::None),
        };
        let ttl_from = rule(&self.ttl_from, quote!(ttl_from));
        let cache_if = rule(&self.cache_if, quote!(cache_if));
        let validate = rule(&self.validate, quote!(validate));
        quote! {
            ::cacheow::__private::Rules::<#output> { ttl_from: #ttl_from, cache_if: #cache_if, validate: #validate }
        }
    }
}

fn render_duration(duration: Duration) -> TokenStream {
    let (secs, nanos) = (duration.as_secs(), duration.subsec_nanos());
    quote!(::core::time::Duration::new(#secs, #nanos))
}

/// `"10m"`, `"1h 30m"`, `"250ms"`: humantime's format.
fn duration(value: &Expr, message: &str) -> Result<Duration, syn::Error> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(text), .. }) => humantime::parse_duration(&text.value())
            .map_err(|error| syn::Error::new_spanned(text, format!("{message} ({error})"))),
        other => Err(syn::Error::new_spanned(other, message)),
    }
}

fn path(value: &Expr, message: &str) -> Result<syn::Path, syn::Error> {
    match value {
        Expr::Path(path) if path.qself.is_none() => Ok(path.path.clone()),
        other => Err(syn::Error::new_spanned(other, message)),
    }
}

/// `("a", "b")`: non-empty strings.
fn read_names(list: &syn::MetaList, message: &str) -> Result<Vec<String>, syn::Error> {
    let names = list.parse_args_with(Punctuated::<syn::LitStr, Token![,]>::parse_terminated)?;
    names
        .iter()
        .map(|name| {
            let text = name.value();
            if text.trim().is_empty() { Err(syn::Error::new_spanned(name, message)) } else { Ok(text) }
        })
        .collect()
}

fn read_dedupe(value: &Expr) -> Result<DedupeOption, syn::Error> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Bool(flag), .. }) if !flag.value => Ok(DedupeOption::Off),
        Expr::Lit(ExprLit { lit: Lit::Bool(_), .. }) => Ok(DedupeOption::Process),
        Expr::Lit(ExprLit { lit: Lit::Str(text), .. }) if text.value() == "process" => Ok(DedupeOption::Process),
        Expr::Lit(ExprLit { lit: Lit::Str(text), .. }) if text.value() == "processes" => Ok(DedupeOption::Processes),
        other => Err(syn::Error::new_spanned(other, error::DEDUPE_OPTION)),
    }
}

/// Whether a parameter's type borrows: a reference, or a lifetime.
fn borrows(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        proc_macro2::TokenTree::Punct(punct) => matches!(punct.as_char(), '&' | '\''),
        proc_macro2::TokenTree::Group(group) => borrows(group.stream()),
        _ => false,
    })
}

/// `Result<T, E>`, `io::Result<T>`, `anyhow::Result<T>`: a type named `Result`.
fn returns_result(output: &syn::ReturnType) -> bool {
    match output {
        syn::ReturnType::Type(_, ty) => match &**ty {
            syn::Type::Path(path) => path.path.segments.last().is_some_and(|segment| segment.ident == "Result"),
            _ => false,
        },
        syn::ReturnType::Default => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(tokens: TokenStream) -> (PolicyOptions, Vec<String>) {
        let metas =
            Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens).unwrap_or_else(|error| panic!("{error}"));
        let mut options = PolicyOptions::default();
        let errors = metas
            .iter()
            .filter_map(|meta| options.read(meta))
            .filter_map(Result::err)
            .map(|error| error.to_string())
            .collect();
        (options, errors)
    }

    use syn::parse::Parser;

    #[test]
    fn reads_every_policy_option() {
        let (options, errors) = read(quote!(
            ttl = "10m",
            serve_stale,
            ttl_from = ttl_of,
            cache_if = keep,
            cache_errors = false,
            validate = still_good,
            tags("users", "billing"),
            dedupe = false,
            wait = "2s",
            key = key_of,
            redact("api_key"),
            cleanup = "30m"
        ));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(options.ttl, Some(Duration::from_secs(600)));
        assert_eq!(options.wait, Some(Duration::from_secs(2)));
        assert_eq!(options.tags, ["users", "billing"]);
        assert!(matches!(options.dedupe, Some(DedupeOption::Off)));
        assert!(options.serve_stale.is_some() && options.cache_if.is_some() && options.validate.is_some());
        assert!(options.key.is_some());
        assert_eq!(options.redact, ["api_key"]);
        assert_eq!(options.cleanup.map(|(every, _)| every), Some(Duration::from_secs(1800)));
    }

    #[test]
    fn on_change_takes_one_of_three_words() {
        assert_eq!(read(quote!(on_change = "rerecord")).0.on_change, Some("Rerecord"));
        assert_eq!(read(quote!(on_change = "ignore")).0.on_change, Some("Ignore"));
        for bad in [quote!(on_change = "rewrite"), quote!(on_change = true), quote!(on_change)] {
            let errors = read(bad).1;
            assert!(
                errors.len() == 1 && (errors[0] == error::ON_CHANGE_OPTION || errors[0] == error::POLICY_SHAPE),
                "{errors:?}"
            );
        }
    }

    #[test]
    fn bad_values_say_what_is_expected() {
        let (_, errors) = read(quote!(ttl = "ten minutes", cache_if = "keep", tags(), dedupe = "machines"));
        assert!(read(quote!(dedupe = "processes")).1.is_empty());
        assert!(errors[0].starts_with(error::TTL_OPTION), "{errors:?}");
        assert_eq!(errors[1..], [error::FN_OPTION, error::DEDUPE_OPTION]);
    }
}
