//! `#[cacheow(depends(helper_a, helper_b, path = "prompts/system.txt"))]`:
//! what else the function's behaviour depends on, folded into its body
//! hash so that a fixture recorded before a change to them is stale too.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, LitStr, Meta, MetaList, Path, Token};

use crate::error;

/// The functions and files a function depends on.
#[derive(Default)]
pub(crate) struct Depends {
    /// Paths of other decorated functions.
    functions: Vec<Path>,
    /// Paths of files, relative to the crate's root.
    files: Vec<LitStr>,
}

impl Depends {
    /// Reads the list of `depends(..)`.
    pub(crate) fn read(&mut self, list: &MetaList) -> syn::Result<()> {
        for meta in list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)? {
            match &meta {
                Meta::Path(path) => self.functions.push(path.clone()),
                Meta::NameValue(pair) if pair.path.is_ident("path") => match &pair.value {
                    Expr::Lit(syn::ExprLit { lit: Lit::Str(file), .. }) if !file.value().trim().is_empty() => {
                        self.files.push(file.clone());
                    }
                    other => return Err(syn::Error::new_spanned(other, error::DEPENDS_OPTION)),
                },
                other => return Err(syn::Error::new_spanned(other, error::DEPENDS_OPTION)),
            }
        }
        Ok(())
    }

    /// The `depends` of the function's `FunctionMeta`. A file is included
    /// in the build, so that cargo builds again when it changes.
    pub(crate) fn render(&self) -> TokenStream {
        let functions = self.functions.iter().map(
            |path| quote!(::cacheow::__private::Dependency::Function(|| ::cacheow::__private::dependency_of(&#path))),
        );
        let files = self.files.iter().map(|file| {
            quote! {
                ::cacheow::__private::Dependency::File {
                    path: #file,
                    content: ::core::include_bytes!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #file)),
                }
            }
        });
        quote!(&[#(#functions,)* #(#files,)*])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(tokens: TokenStream) -> syn::Result<Depends> {
        let list: MetaList = syn::parse2(quote!(depends(#tokens)))?;
        let mut depends = Depends::default();
        depends.read(&list).map(|()| depends)
    }

    #[test]
    fn reads_functions_and_files() {
        let depends = read(quote!(helper, api::fetch, path = "prompts/system.txt")).unwrap_or_default();
        assert_eq!((depends.functions.len(), depends.files.len()), (2, 1));
        let rendered = depends.render().to_string();
        assert!(rendered.contains("dependency_of (& api :: fetch)"), "{rendered}");
        assert!(rendered.contains("include_bytes !"), "{rendered}");
    }

    #[test]
    fn anything_else_says_what_it_takes() {
        for tokens in [quote!(path = 3), quote!(file = "x"), quote!(path = ""), quote!(f(1))] {
            let error = read(tokens).err().map(|error| error.to_string()).unwrap_or_default();
            assert_eq!(error, error::DEPENDS_OPTION);
        }
    }
}
