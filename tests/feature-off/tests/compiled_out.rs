//! Built apart from the workspace by trybuild, where nothing turns the
//! `instrument` feature on.

#[test]
fn without_the_instrument_feature_functions_compile_as_written() {
    trybuild::TestCases::new().pass("tests/off/*.rs");
}
