//! Every decorated function linked into the program, registered before
//! `main` by the constructor `#[cacheow]` generates, and the handles
//! `handle!` makes for paths no `#[cacheow]` registered.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::kind::FunctionKind;
use crate::model::{ids, report};
use crate::runtime::function::{Function, FunctionMeta, Names, leak};

static REGISTRY: Mutex<Vec<&'static Function>> = Mutex::new(Vec::new());

/// Handles made by `handle!` for paths no `#[cacheow]` registered.
static UNREGISTERED: Mutex<Option<HashMap<String, &'static Function>>> = Mutex::new(None);

pub(crate) fn register(function: &'static Function) {
    let mut registry = REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !registry.iter().any(|known| std::ptr::eq(*known, function)) {
        registry.push(function);
    }
}

pub(crate) fn registered() -> Vec<&'static Function> {
    REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}

/// The decorated function of this program with this id.
pub(crate) fn by_id(function_id: &str) -> Option<&'static Function> {
    registered().into_iter().find(|function| function.id() == function_id)
}

/// The handle of the function whose item type name is `type_name`.
pub(crate) fn by_type_name(type_name: &str) -> &'static Function {
    let function = lookup(type_name);
    if !function.is_registered() && cfg!(feature = "instrument") {
        let name = function.name();
        report::warn_once(
            format!("unregistered:{name}"),
            format_args!("cacheow::handle!: `{name}` is not a #[cacheow] function of this program"),
        );
    }
    function
}

/// The handle of the function of type name `type_name`, registered or not.
pub(crate) fn lookup(type_name: &str) -> &'static Function {
    let qualified = ids::qualified_name(type_name);
    let found = registered().into_iter().find(|function| function.name() == qualified);
    found.unwrap_or_else(|| unregistered(qualified))
}

/// A handle for a function that no `#[cacheow]` registered in this program
/// (the `instrument` feature is off, or the path names another function):
/// it still knows its id, and controls what the data dir holds for it.
fn unregistered(qualified: String) -> &'static Function {
    let mut handles = UNREGISTERED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let handles = handles.get_or_insert_with(HashMap::new);
    if let Some(function) = handles.get(&qualified) {
        return function;
    }
    let names =
        Names { id: leak(ids::function_id(&qualified)), qualified: leak(qualified.clone()), in_generic_impl: false };
    let meta = FunctionMeta {
        probe: || "",
        name: names.qualified.rsplit("::").next().unwrap_or(names.qualified),
        module_path: "",
        signature: "",
        kind: FunctionKind::Unregistered,
        file: "",
        line: 0,
        stable_name: None,
        version: 0,
        record_panics: true,
        generic: false,
        policy: crate::model::policy::Policy::DEFAULT,
        body_hash: "",
        depends: &[],
        verify_exact: false,
    };
    let function: &'static Function = Box::leak(Box::new(Function::with_names(meta, names)));
    handles.insert(qualified, function);
    function
}

/// Two functions with one id would share their outcomes: say so. It happens
/// for methods of the same name in two impls of one generic type
/// (`impl Foo<u8>` and `impl Foo<u16>`), whose paths differ only in
/// generic arguments.
pub(crate) fn warn_shared_ids(functions: &[&'static Function]) {
    let mut seen: HashMap<&str, &Function> = HashMap::new();
    for function in functions {
        if let Some(other) = seen.insert(function.id(), function) {
            let (a, b) = (other.meta(), function.meta());
            report::warn_once(
                format!("shared-id:{}", function.id()),
                format_args!(
                    "the #[cacheow] functions at {}:{} and {}:{} are both `{}` (id {}), so they share their \
                     outcomes and mode: rename one",
                    a.file,
                    a.line,
                    b.file,
                    b.line,
                    function.name(),
                    function.id()
                ),
            );
        }
    }
}
