//! Writes the test, run inside the `cacheow_test::Scope` its options build.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ReturnType;
use syn::ext::IdentExt;

use super::parse::{Options, Test};

pub(crate) fn render(test: &Test) -> TokenStream {
    let syn::ItemFn { attrs, vis, sig, block } = &test.item;
    // Alone, it is a test; with another test attribute, that one is.
    let test_attr = (!test.has_test_attr).then(|| quote!(#[::core::prelude::v1::test]));
    let name = sig.ident.unraw().to_string();
    let settings = settings(&test.options);
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let snapshot = test.options.snapshot.then(|| quote!(::cacheow_test::assert_outcomes_snapshot!();));
    let scope = quote! {
        ::cacheow_test::__private::scope(::core::module_path!(), #name, ::core::env!("CARGO_MANIFEST_DIR")) #settings
    };
    let body = if sig.asyncness.is_some() {
        quote! {
            #scope.run_async_test(async move {
                // The annotated `let` gives `?` and `return` in the body their type.
                let __cacheow_result: #output = async move #block.await;
                #snapshot
                __cacheow_result
            }).await
        }
    } else if test.should_panic {
        // A missing fixture's panic must not pass for the panic expected.
        quote! {
            #scope.run_should_panic_test(move || {
                (move || #block)();
                #snapshot
            })
        }
    } else {
        quote! {
            #scope.run_test(move || -> #output {
                let __cacheow_result: #output = (move || -> #output #block)();
                #snapshot
                __cacheow_result
            })
        }
    };
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}

fn settings(options: &Options) -> TokenStream {
    let mut settings = TokenStream::new();
    if let Some(record) = &options.record {
        settings.extend(quote!(.record(::cacheow_test::Record::#record)));
    }
    for (mode, path) in &options.pins {
        settings.extend(quote! {
            .pin(::cacheow_test::__private::handle!(#path), ::cacheow_test::__private::Mode::#mode)
        });
    }
    if let Some(fixtures) = &options.fixtures {
        settings.extend(quote!(.fixtures_dir(#fixtures)));
    }
    for field in &options.redact_fields {
        settings.extend(quote!(.redact_field(#field)));
    }
    for variable in &options.redact_env {
        settings.extend(quote!(.redact_env(#variable)));
    }
    if options.save_on_failure {
        settings.extend(quote!(.save_on_failure(true)));
    }
    if options.strict {
        settings.extend(quote!(.strict(true)));
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test::parse::parse;

    fn rendered(attr: TokenStream, item: TokenStream) -> String {
        render(&parse(attr, item).unwrap_or_else(|errors| panic!("{:?}", errors.messages()))).to_string()
    }

    #[test]
    fn alone_it_is_a_test() {
        let out = rendered(quote!(), quote! { fn looks_up_user() { assert!(true) } });
        assert!(out.starts_with("# [:: core :: prelude :: v1 :: test]"), "{out}");
        assert!(out.contains(". run_test (move ||"), "{out}");
    }

    #[test]
    fn beside_another_test_attribute_it_adds_none() {
        let out = rendered(quote!(mock(fetch)), quote! { #[tokio::test] async fn t() {} });
        assert!(!out.contains("prelude :: v1 :: test"), "{out}");
        assert!(out.contains("run_async_test"), "{out}");
        assert!(out.contains("Mode :: Mock"), "{out}");
        assert!(!out.contains("strict"), "{out}");
        assert!(rendered(quote!(strict), quote! { fn t() {} }).contains(". strict (true)"));
    }
}
