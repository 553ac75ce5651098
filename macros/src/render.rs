//! Writes the expansion of `#[cacheow]`.
//!
//! The expansion stays thin: it captures what only the macro can see (the
//! name, the signature, the argument values, the return type) and hands the
//! call to `::cacheow::__private`, which does the work in ordinary Rust.

use proc_macro2::{Delimiter, Group, Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::ReturnType;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::error::Errors;
use crate::output::{self, Output};
use crate::parse::Function;

pub(crate) fn render(function: &Function) -> TokenStream {
    let plain = plain_function(function);
    let instrumented = instrumented_function(function);
    // `instrument!` keeps one of the two, depending on the `instrument`
    // feature of cacheow: without it the function compiles exactly as written.
    quote! {
        ::cacheow::__private::instrument! {
            plain { #plain }
            instrumented { #instrumented }
        }
    }
}

/// The errors, then the function as written, so that the rest of the crate
/// still compiles and the user sees only the errors that matter.
pub(crate) fn fallback(function: &Function, errors: Errors) -> TokenStream {
    let mut out = errors.to_compile_error();
    out.extend(plain_function(function));
    out
}

fn plain_function(function: &Function) -> TokenStream {
    let syn::ItemFn { attrs, vis, sig, .. } = &function.item;
    let body = body(function);
    quote! { #(#attrs)* #vis #sig #body }
}

/// The original body, after the `let`s that restore destructured
/// parameters: one block, in braces that carry the span of the block as
/// written. Not the block inside another, which a one-line body would have
/// the compiler call unnecessary braces.
fn body(function: &Function) -> TokenStream {
    let destructure = &function.destructure;
    let block = &function.item.block;
    let stmts = &block.stmts;
    let mut braced = Group::new(Delimiter::Brace, quote! { #(#destructure)* #(#stmts)* });
    braced.set_span(block.brace_token.span.join());
    braced.into_token_stream()
}

fn instrumented_function(function: &Function) -> TokenStream {
    let syn::ItemFn { attrs, vis, sig, .. } = &function.item;
    let registration = registration(function);
    let capture = capture_args(function);
    let call = match output::classify(&sig.output) {
        Output::Iterator { item } => sequence_call(function, quote!(call_iter), &item, SequenceWrap::Items),
        Output::Stream { item, boxed: false } => {
            sequence_call(function, quote!(call_stream), &item, SequenceWrap::StreamItems)
        }
        Output::Stream { item, boxed: true } => {
            sequence_call(function, quote!(call_stream), &item, SequenceWrap::Boxed)
        }
        _ if sig.asyncness.is_some() => async_call(function),
        _ => sync_call(function),
    };
    let track_caller = tracks_caller(function).then(|| quote!(#[track_caller]));
    quote! {
        #(#attrs)* #track_caller #vis #sig {
            #registration
            let __cacheow_args = #capture;
            #call
        }
    }
}

/// Whether a panic of cacheow's in a call (a test's missing fixture) points
/// at the caller, not at cacheow's source: for synchronous functions of the
/// Rust ABI, as stable Rust allows, and not twice.
fn tracks_caller(function: &Function) -> bool {
    let syn::ItemFn { attrs, sig, .. } = &function.item;
    let plain = matches!(output::classify(&sig.output), Output::Value);
    let rust_abi = sig.abi.as_ref().is_none_or(|abi| abi.name.as_ref().is_some_and(|name| name.value() == "Rust"));
    let tracked = attrs.iter().any(|attr| attr.path().is_ident("track_caller"));
    plain && sig.asyncness.is_none() && rust_abi && !tracked && sig.ident != "main"
}

/// The function's static handle and its registration before `main`.
fn registration(function: &Function) -> TokenStream {
    let sig = &function.item.sig;
    let name = sig.ident.unraw().to_string();
    let signature = signature_text(sig);
    let kind = match output::classify(&sig.output) {
        Output::Iterator { .. } => quote!(Iterator),
        Output::Stream { .. } => quote!(Stream),
        _ if sig.asyncness.is_some() => quote!(Async),
        _ => quote!(Sync),
    };
    let options = &function.options;
    let stable_name = match &options.name {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    let (version, record_panics) = (options.version, options.record_panics);
    let generic = return_type_varies(sig);
    let policy = options.policy.render_policy();
    let body_hash = crate::body_hash::of(&function.item.block);
    let depends = options.depends.render();
    let verify_exact = options.verify_exact;
    quote! {
        static __CACHEOW_FUNCTION: ::cacheow::__private::Function =
            ::cacheow::__private::Function::new(::cacheow::__private::FunctionMeta {
                probe: __cacheow_probe,
                name: #name,
                module_path: ::core::module_path!(),
                signature: #signature,
                kind: ::cacheow::__private::FunctionKind::#kind,
                file: ::core::file!(),
                line: ::core::line!(),
                stable_name: #stable_name,
                version: #version,
                record_panics: #record_panics,
                generic: #generic,
                policy: #policy,
                body_hash: #body_hash,
                depends: #depends,
                verify_exact: #verify_exact,
            });
        // Its type name is the function's path, `Self` type included, which
        // an attribute on a method cannot otherwise know.
        fn __cacheow_probe() -> &'static str {
            ::core::any::type_name_of_val(&__cacheow_probe)
        }
        ::cacheow::__private::register!(__CACHEOW_FUNCTION);
    }
}

/// `Some(arguments)` when cacheow may be on; `None` costs one relaxed atomic
/// load. The capture runs out of line, so that the function stays small.
fn capture_args(function: &Function) -> TokenStream {
    // Sorted by name, the order of the keys of a canonical JSON object.
    let mut params: Vec<_> = function.params.iter().filter(|param| param.in_key).collect();
    params.sort_by(|a, b| a.name.cmp(&b.name));
    let args = params.into_iter().map(|param| {
        let name = &param.name;
        let binding = &param.binding;
        // Spanned at the parameter, so that "cannot be a key" points at it.
        quote_spanned!(param.ty.span()=> __cacheow_writer.arg(#name, &#binding);)
    });
    let mut capture = quote!(::cacheow::__private::capture_args(|__cacheow_writer| { #(#args)* }));
    if let Some(key_of) = &function.options.policy.key {
        // Every parameter but the receiver, by reference, in order.
        let params = function.params.iter().map(|param| &param.binding);
        capture = quote!(#capture.and_then(|__cacheow_args| __cacheow_args.keyed_by(&#key_of(#(&#params),*))));
    }
    let redact = &function.options.policy.redact;
    if !redact.is_empty() {
        capture = quote!(#capture.map(|__cacheow_args| __cacheow_args.redacted(&[#(#redact),*])));
    }
    quote! {
        if ::cacheow::__private::is_active() {
            ::core::option::Option::Some(#capture)
        } else {
            ::core::option::Option::None
        }
    }
}

fn sync_call(function: &Function) -> TokenStream {
    let output = output_type(&function.item.sig.output);
    let body = body(function);
    let codec = codec(&function.item.sig.output);
    let rules = function.options.policy.render_rules(&output);
    let (call, checks) = stale_call(function, quote!(call_sync), quote!(call_sync_stale));
    quote! {
        #checks
        #[allow(unused_mut)]
        let mut __cacheow_body = move || -> #output #body;
        match __cacheow_args {
            ::core::option::Option::None => __cacheow_body(),
            ::core::option::Option::Some(::core::result::Result::Ok(__cacheow_args)) => ::cacheow::__private::#call(
                &__CACHEOW_FUNCTION,
                __cacheow_args,
                #codec,
                #rules,
                __cacheow_body,
            ),
            ::core::option::Option::Some(::core::result::Result::Err(_)) => {
                ::cacheow::__private::check_uncaptured(&__CACHEOW_FUNCTION);
                __cacheow_body()
            }
        }
    }
}

fn async_call(function: &Function) -> TokenStream {
    let output = output_type(&function.item.sig.output);
    let body = body(function);
    let codec = codec(&function.item.sig.output);
    let rules = function.options.policy.render_rules(&output);
    let (call, checks) = stale_call(function, quote!(call_async), quote!(call_async_stale));
    quote! {
        #checks
        // The annotated `let` gives `?` and `return` in the body their type.
        let __cacheow_body = async move {
            let __cacheow_output: #output = #body;
            #[allow(unreachable_code)]
            __cacheow_output
        };
        match __cacheow_args {
            ::core::option::Option::None => __cacheow_body.await,
            ::core::option::Option::Some(::core::result::Result::Ok(__cacheow_args)) => {
                ::cacheow::__private::#call(&__CACHEOW_FUNCTION, __cacheow_args, #codec, #rules, __cacheow_body).await
            }
            ::core::option::Option::Some(::core::result::Result::Err(_)) => {
                ::cacheow::__private::check_uncaptured(&__CACHEOW_FUNCTION);
                __cacheow_body.await
            }
        }
    }
}

/// The runtime's entry point: `stale` with `serve_stale`, whose arguments
/// are then checked to be `Send` (an error spanned at the one that is not).
fn stale_call(function: &Function, plain: TokenStream, stale: TokenStream) -> (TokenStream, TokenStream) {
    if function.options.policy.serve_stale.is_none() {
        return (plain, TokenStream::new());
    }
    let checks = function.params.iter().map(|param| {
        let binding = &param.binding;
        quote_spanned!(param.ty.span()=> ::cacheow::__private::stale_arg(&#binding);)
    });
    (stale, quote!(#(#checks)*))
}

/// How the value a sequence function returns is made of the recorded one.
enum SequenceWrap {
    /// `impl Iterator`: `Items`, or the plain iterator wrapped in one.
    Items,
    /// `impl Stream`: `StreamItems`, likewise.
    StreamItems,
    /// A boxed stream: boxed again, or returned as it is when cacheow is off.
    Boxed,
}

/// A function that returns an iterator or a stream: its items are recorded
/// as they are consumed.
fn sequence_call(function: &Function, call: TokenStream, item: &syn::Type, wrap: SequenceWrap) -> TokenStream {
    let body = body(function);
    let codec = codec_of(item, item.span());
    let plain = match wrap {
        SequenceWrap::Items => quote!(::cacheow::__private::Items::plain(__cacheow_body())),
        SequenceWrap::StreamItems => quote!(::cacheow::__private::StreamItems::plain(__cacheow_body())),
        SequenceWrap::Boxed => quote!(__cacheow_body()),
    };
    let mut recorded = quote! {
        ::cacheow::__private::#call(&__CACHEOW_FUNCTION, __cacheow_args, #codec, __cacheow_body)
    };
    if let SequenceWrap::Boxed = wrap {
        recorded = quote!(::std::boxed::Box::pin(#recorded));
    }
    quote! {
        let __cacheow_body = move || #body;
        match __cacheow_args {
            ::core::option::Option::None => #plain,
            ::core::option::Option::Some(::core::result::Result::Ok(__cacheow_args)) => #recorded,
            ::core::option::Option::Some(::core::result::Result::Err(_)) => {
                ::cacheow::__private::check_uncaptured(&__CACHEOW_FUNCTION);
                #plain
            }
        }
    }
}

/// Picks how the return value is recorded, at the return type's span so that
/// "cannot be recorded" points at it.
fn codec(output: &ReturnType) -> TokenStream {
    let span = match output {
        ReturnType::Default => Span::call_site(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    codec_of(&output_type(output), span)
}

/// The codec of `ty`: the `&&&&&` selects the most specific one the type
/// supports (autoref specialisation).
fn codec_of(ty: &impl ToTokens, span: Span) -> TokenStream {
    quote_spanned! {span=>
        {
            #[allow(unused_imports)]
            use ::cacheow::__private::codec::{
                ViaIoResult as _, ViaAnyhowResult as _, ViaBoxedResult as _, ViaSerdeResult as _,
                ViaUnsupportedResult as _, ViaValue as _, ViaUnsupported as _,
            };
            (&&&&&::cacheow::__private::codec::Tag::<#ty>::new()).codec()
        }
    }
}

fn output_type(output: &ReturnType) -> TokenStream {
    match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    }
}

/// `fn fetch(&self, id: u32) -> User`, for people reading the control panel.
/// Whether one function's calls may return different types: it has type
/// parameters, or `impl Trait` ones, or its return type names `Self` (a
/// trait's method). One static handle serves every instantiation.
fn return_type_varies(sig: &syn::Signature) -> bool {
    fn names(tokens: TokenStream, word: &str) -> bool {
        tokens.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => ident == word,
            TokenTree::Group(group) => names(group.stream(), word),
            _ => false,
        })
    }
    let generics = &sig.generics;
    generics.type_params().next().is_some()
        || generics.const_params().next().is_some()
        || sig.inputs.iter().any(|input| names(input.to_token_stream(), "impl"))
        || names(sig.output.to_token_stream(), "Self")
}

fn signature_text(sig: &syn::Signature) -> String {
    let mut sig = sig.clone();
    sig.generics.where_clause = None;
    let mut out = String::new();
    write_tokens(sig.to_token_stream(), &mut out);
    out
}

/// Prints tokens the way rustfmt would lay out a signature.
fn write_tokens(tokens: TokenStream, out: &mut String) {
    let space_before_word = |out: &mut String| {
        if out.ends_with(|c: char| c.is_alphanumeric() || matches!(c, '_' | ')' | '>' | '"')) {
            out.push(' ');
        }
    };
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                space_before_word(out);
                out.push_str(&ident.to_string());
            }
            TokenTree::Literal(literal) => {
                space_before_word(out);
                out.push_str(&literal.to_string());
            }
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => (" { ", " }"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                write_tokens(group.stream(), out);
                out.push_str(close);
            }
            TokenTree::Punct(punct) => match punct.as_char() {
                ',' => out.push_str(", "),
                ':' if punct.spacing() == Spacing::Joint || out.ends_with(':') => out.push(':'),
                ':' => out.push_str(": "),
                '-' if punct.spacing() == Spacing::Joint => out.push_str(" -"),
                '>' if out.ends_with('-') => out.push_str("> "),
                '=' | '+' => {
                    out.push(' ');
                    out.push(punct.as_char());
                    out.push(' ');
                }
                '&' | '*' => {
                    space_before_word(out);
                    out.push(punct.as_char());
                }
                other => out.push(other),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn sig(item: TokenStream) -> String {
        let function = parse(quote!(), item).unwrap_or_else(|errors| panic!("{:?}", errors.messages()));
        signature_text(&function.item.sig)
    }

    #[test]
    fn signature_reads_like_source() {
        assert_eq!(sig(quote! { fn sync_compute(n: u64) -> u64 { n } }), "fn sync_compute(n: u64) -> u64");
        assert_eq!(
            sig(
                quote! { async fn fetch<'a, T: Clone>(&'a self, ids: &[u32], m: HashMap<String, Vec<T>>) -> Result<User, std::io::Error> where T: Send { todo!() } }
            ),
            "async fn fetch<'a, T: Clone>(&'a self, ids: &[u32], m: HashMap<String, Vec<T>>) -> Result<User, std::io::Error>"
        );
        assert_eq!(sig(quote! { fn f(#[cacheow(skip)] c: &mut Client) {} }), "fn f(c: &mut Client)");
    }

    #[test]
    fn only_synchronous_calls_of_the_rust_abi_track_their_caller() {
        let tracks = |item: TokenStream| {
            let function = parse(quote!(), item).unwrap_or_else(|errors| panic!("{:?}", errors.messages()));
            instrumented_function(&function).to_string().matches("# [track_caller]").count()
        };
        assert_eq!(tracks(quote! { fn f(n: u64) -> u64 { n } }), 1);
        assert_eq!(tracks(quote! { #[track_caller] fn f(n: u64) -> u64 { n } }), 1, "not twice");
        assert_eq!(tracks(quote! { async fn f(n: u64) -> u64 { n } }), 0);
        assert_eq!(tracks(quote! { extern "C" fn f(n: u64) -> u64 { n } }), 0);
        assert_eq!(tracks(quote! { fn f(n: u64) -> impl Iterator<Item = u64> { 0..n } }), 0);
    }

    #[test]
    fn sync_expansion_calls_the_runtime_once() {
        let function = parse(quote!(), quote! { fn sync_compute(n: u64) -> u64 { n * n } })
            .unwrap_or_else(|errors| panic!("{:?}", errors.messages()));
        let expanded = render(&function).to_string();
        assert!(expanded.contains("call_sync"));
        assert!(!expanded.contains("call_async"));
        assert!(expanded.contains("__cacheow_writer . arg (\"n\" , & n)"), "{expanded}");
        // The body appears once in each of the two versions.
        assert_eq!(expanded.matches("n * n").count(), 2);
    }

    #[test]
    fn skipped_parameters_stay_out_of_the_key() {
        let function =
            parse(quote!(), quote! { async fn f(&self, #[cacheow(skip)] client: &Client, id: u32) -> u32 { id } })
                .unwrap_or_else(|errors| panic!("{:?}", errors.messages()));
        let expanded = render(&function).to_string();
        assert!(expanded.contains("call_async"));
        assert!(expanded.contains("arg (\"id\""));
        assert!(!expanded.contains("arg (\"client\""));
        assert!(!expanded.contains("arg (\"self\""));
    }
}
