//! What a decorated function returns: a value, or a sequence (an iterator
//! or a stream) whose items are recorded.

use syn::{GenericArgument, PathArguments, ReturnType, Type, TypeParamBound};

/// The kind of a function's return type.
pub(crate) enum Output {
    /// A value, recorded whole.
    Value,
    /// `impl Iterator<Item = T>`.
    Iterator { item: Type },
    /// `impl Stream<Item = T>`, or a boxed one (`Pin<Box<dyn Stream<..>>>`,
    /// `BoxStream<'_, T>`), which is returned boxed.
    Stream { item: Type, boxed: bool },
    /// An `impl Trait` that cacheow cannot record.
    Unsupported,
}

pub(crate) fn classify(output: &ReturnType) -> Output {
    let ReturnType::Type(_, ty) = output else { return Output::Value };
    match &**ty {
        Type::ImplTrait(impl_trait) => match sequence_bound(&impl_trait.bounds) {
            Some(("Iterator", item)) => Output::Iterator { item },
            Some(("Stream", item)) => Output::Stream { item, boxed: false },
            _ => Output::Unsupported,
        },
        Type::Path(path) => boxed_stream(path).map_or(Output::Value, |item| Output::Stream { item, boxed: true }),
        _ => Output::Value,
    }
}

/// `Iterator<Item = T>` or `Stream<Item = T>`, when every other bound is an
/// auto trait or a lifetime, which the recorded sequence keeps.
fn sequence_bound<'a>(bounds: impl IntoIterator<Item = &'a TypeParamBound>) -> Option<(&'static str, Type)> {
    let mut found = None;
    for bound in bounds {
        match bound {
            TypeParamBound::Trait(bound) => {
                let segment = bound.path.segments.last()?;
                let name = segment.ident.to_string();
                match name.as_str() {
                    "Iterator" | "Stream" if found.is_none() => {
                        let kind = if name == "Iterator" { "Iterator" } else { "Stream" };
                        found = Some((kind, item_type(&segment.arguments)?));
                    }
                    "Send" | "Sync" | "Unpin" => {}
                    _ => return None,
                }
            }
            TypeParamBound::Lifetime(_) | TypeParamBound::PreciseCapture(_) => {}
            _ => return None,
        }
    }
    found
}

/// `T` of `<Item = T>`.
fn item_type(arguments: &PathArguments) -> Option<Type> {
    let PathArguments::AngleBracketed(arguments) = arguments else { return None };
    arguments.args.iter().find_map(|argument| match argument {
        GenericArgument::AssocType(assoc) if assoc.ident == "Item" => Some(assoc.ty.clone()),
        _ => None,
    })
}

/// The item type of `Pin<Box<dyn Stream<Item = T> + ..>>`, `BoxStream<'_, T>`
/// or `LocalBoxStream<'_, T>`.
fn boxed_stream(path: &syn::TypePath) -> Option<Type> {
    let segment = path.path.segments.last()?;
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else { return None };
    let types = || {
        arguments.args.iter().filter_map(|argument| match argument {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
    };
    match segment.ident.to_string().as_str() {
        "BoxStream" | "LocalBoxStream" => types().next().cloned(),
        "Pin" => {
            let Type::Path(boxed) = types().next()? else { return None };
            let boxed = boxed.path.segments.last().filter(|segment| segment.ident == "Box")?;
            let PathArguments::AngleBracketed(inner) = &boxed.arguments else { return None };
            let Some(GenericArgument::Type(Type::TraitObject(object))) = inner.args.first() else { return None };
            match sequence_bound(&object.bounds) {
                Some(("Stream", item)) => Some(item),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::{ToTokens, quote};

    fn kind(output: proc_macro2::TokenStream) -> String {
        let output: ReturnType = syn::parse2(output).unwrap_or_else(|e| panic!("{e}"));
        match classify(&output) {
            Output::Value => "value".to_owned(),
            Output::Iterator { item } => format!("iterator of {}", item.to_token_stream()),
            Output::Stream { item, boxed } => format!("stream of {} boxed {boxed}", item.to_token_stream()),
            Output::Unsupported => "unsupported".to_owned(),
        }
    }

    #[test]
    fn tells_sequences_from_values() {
        assert_eq!(kind(quote!(-> u64)), "value");
        assert_eq!(kind(quote!()), "value");
        assert_eq!(kind(quote!(-> impl Iterator<Item = u64> + Send + 'a)), "iterator of u64");
        assert_eq!(kind(quote!(-> impl std::iter::Iterator<Item = Result<u8, E>>)), "iterator of Result < u8 , E >");
        assert_eq!(kind(quote!(-> impl Stream<Item = String>)), "stream of String boxed false");
        assert_eq!(kind(quote!(-> Pin<Box<dyn Stream<Item = u8> + Send>>)), "stream of u8 boxed true");
        assert_eq!(kind(quote!(-> BoxStream<'static, u8>)), "stream of u8 boxed true");
        assert_eq!(kind(quote!(-> impl DoubleEndedIterator<Item = u8>)), "unsupported");
        assert_eq!(kind(quote!(-> impl Iterator<Item = u8> + Clone)), "unsupported");
        assert_eq!(kind(quote!(-> impl std::fmt::Display)), "unsupported");
        assert_eq!(kind(quote!(-> Pin<Box<u8>>)), "value");
    }
}
