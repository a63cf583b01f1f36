//! Log levels of the host's log callback.

use super::wire::Wire;

/// Log levels for the host log callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Wire for LogLevel {
    type Repr = u8;
    #[inline]
    fn to_wire(self) -> u8 {
        match self {
            LogLevel::Error => 0,
            LogLevel::Warn => 1,
            LogLevel::Info => 2,
            LogLevel::Debug => 3,
            LogLevel::Trace => 4,
        }
    }
    #[inline]
    fn from_wire(v: u8) -> Self {
        match v {
            0 => LogLevel::Error,
            1 => LogLevel::Warn,
            2 => LogLevel::Info,
            3 => LogLevel::Debug,
            // A finer level than this side knows logs at trace.
            _ => LogLevel::Trace,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wire::assert_wire_forms;

    #[test]
    fn log_levels_cross_the_boundary_as_their_numbers() {
        assert_wire_forms!(LogLevel {
            Error => 0,
            Warn => 1,
            Info => 2,
            Debug => 3,
            Trace => 4,
        } unknown [5, 255] => Trace);
    }
}
