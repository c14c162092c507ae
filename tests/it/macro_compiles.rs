//! `workflow!` declarations that must compile, and whose generated code then behaves as each
//! test says. (They were trybuild `pass` cases; as trybuild builds, rather than checks, every
//! dependency when any case must run, they live here and trybuild only checks the failing cases.)

mod compose;
mod every_field;
mod result_path_null;
