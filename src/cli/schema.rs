//! `carepath schema`: the JSON Schema of the rule pack format.

use super::Status;
use super::output;

pub fn run() -> Status {
    output::out(&carepath::emit::schema_json());
    Status::Ok
}
