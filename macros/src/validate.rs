//! Checks what the macro cannot instrument, collecting every error at once.

use crate::error::{self, Errors};
use crate::output::{self, Output};
use crate::parse::Function;

pub(crate) fn validate(function: &Function) -> Result<(), Errors> {
    let mut errors = Errors::default();
    for error in function.option_errors.iter().chain(&function.param_errors) {
        errors.push_error(error.clone());
    }
    let sig = &function.item.sig;
    if let Some(constness) = &sig.constness {
        errors.push(constness, error::CONST_FN);
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(variadic, error::VARIADIC);
    }
    let is_sequence = matches!(output::classify(&sig.output), Output::Iterator { .. } | Output::Stream { .. });
    function.options.policy.check(sig, is_sequence, &mut errors);
    match output::classify(&sig.output) {
        Output::Unsupported => errors.push(&sig.output, error::IMPL_TRAIT_RETURN),
        Output::Iterator { .. } | Output::Stream { .. } if sig.asyncness.is_some() => {
            errors.push(&sig.output, error::ASYNC_SEQUENCE);
        }
        _ => {}
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
            quote!(size = 3, cache = 4),
            quote! { const fn f(#[cacheow(bogus)] n: u64) -> impl ExactSizeIterator<Item = u64> { 0..n } },
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

    #[test]
    fn sequences_come_from_plain_fns() {
        assert!(messages(quote!(), quote! { fn f(n: u64) -> impl Iterator<Item = u64> { 0..n } }).is_empty());
        let found = messages(quote!(), quote! { async fn f(n: u64) -> impl Iterator<Item = u64> { 0..n } });
        assert_eq!(found, [error::ASYNC_SEQUENCE]);
    }
}
