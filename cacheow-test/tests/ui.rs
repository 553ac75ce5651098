//! Test stacks that cannot work, and unknown options, fail to compile with
//! a message that says what to do.

#[test]
fn compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
