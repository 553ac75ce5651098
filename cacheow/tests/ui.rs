//! What cannot be decorated fails to compile, with a message that names
//! the type or option and says what to do.

#[test]
fn compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
