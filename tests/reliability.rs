//! Reliability of the command: closed pipes, full devices, interrupted and
//! concurrent builds, and answers that must not give a confident decision.
