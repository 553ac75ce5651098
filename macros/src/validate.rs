//! Checks what the macro cannot instrument, collecting every error at once.

use syn::{ReturnType, Type};

use crate::error::{self, Errors};
use crate::parse::Function;

pub(crate) fn validate(function: &Function) -> Result<(), Errors> {
    let mut errors = Errors::default();
    for option in &function.unknown_options {
        errors.push(option, error::UNKNOWN_OPTION);
    }
    for error in &function.param_errors {
        errors.push_error(error.clone());
    }
    let sig = &function.item.sig;
    if let Some(constness) = &sig.constness {
        errors.push(constness, error::CONST_FN);
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(variadic, error::VARIADIC);
    }
    if let ReturnType::Type(_, ty) = &sig.output
        && let Type::ImplTrait(impl_trait) = &**ty
    {
        errors.push(impl_trait, error::IMPL_TRAIT_RETURN);
    }
    errors.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use quote::quote;

    fn messages(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> Vec<String> {
        let function = parse(attr, item).unwrap_or_else(|errors| panic!("{:?}", errors.messages()));
        validate(&function).err().map(|errors| errors.messages()).unwrap_or_default()
    }

    #[test]
    fn accepts_plain_functions() {
        assert!(messages(quote!(), quote! { async fn f(&self, n: u64) -> Result<u64, E> { Ok(n) } }).is_empty());
    }

    #[test]
    fn reports_every_error_at_once() {
        let found = messages(
            quote!(ttl = 3, size = 4),
            quote! { const fn f(#[cacheow(bogus)] n: u64) -> impl Iterator<Item = u64> { 0..n } },
        );
        assert_eq!(
            found,
            [
                error::UNKNOWN_OPTION,
                error::UNKNOWN_OPTION,
                error::UNKNOWN_PARAM_OPTION,
                error::CONST_FN,
                error::IMPL_TRAIT_RETURN,
            ]
        );
    }
}
