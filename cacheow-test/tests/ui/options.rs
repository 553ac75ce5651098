use cacheow_test::cacheow_test;

#[cacheow_test(record = "sometimes")]
fn bad_record_mode() {}

#[cacheow_test(retries = 3, mock)]
fn unknown_options() {}

fn main() {}
