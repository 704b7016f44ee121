//! `carepath schema`: the JSON Schema of the rule pack format.

use std::io::Write;

use super::Status;

pub fn run() -> Status {
    let mut out = std::io::stdout().lock();
    match out.write_all(carepath::emit::schema_json().as_bytes()) {
        Ok(()) => Status::Ok,
        Err(e) => {
            eprintln!("error: cannot write the schema: {e}");
            Status::Usage
        }
    }
}
