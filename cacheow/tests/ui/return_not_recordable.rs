struct Report;

#[cacheow::cacheow]
fn report(id: u32) -> Report {
    let _ = id;
    Report
}

#[derive(Debug)]
struct NotSerdeError;

#[cacheow::cacheow]
fn load(id: u32) -> Result<u32, NotSerdeError> {
    Ok(id)
}

fn main() {}
