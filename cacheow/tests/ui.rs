//! What cannot be decorated fails to compile, with a message that names
//! the type or option and says what to do; what can compiles without a
//! warning.

#[test]
fn compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
